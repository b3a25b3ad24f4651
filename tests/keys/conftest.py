"""Key-provider fixtures: ``backend`` runs a test with a key file and with a SoftHSM2 HSM."""

from key_backends import backend, hsm  # noqa: F401  (fixtures)
