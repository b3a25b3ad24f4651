"""Use cases of the hub, each through the governed gate: decided with a reason and audited
before it acts, its outcome audited after. The CLI (and the Python and REST interfaces)
call these and open no key, session or audit log by themselves."""
