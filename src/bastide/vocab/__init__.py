"""Standard OMOP vocabularies (an OHDSI Athena download) imported into the warehouse.

See docs/vocabularies.md. The governed entry points are in ``bastide.vocab.service``
(``import_vocabulary``, ``vocabulary_status_for``).
"""

from bastide.vocab.errors import VocabularyError

__all__ = ["VocabularyError"]
