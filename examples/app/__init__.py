"""A small Django-style app ("clinic") on EncryptedModel: ``models.py`` declares the encrypted
model, ``services.py`` is the service layer the views would call, ``keys.py`` loads the keys
once at start-up (as ``AppConfig.ready()`` would).

``python -m app`` (from ``examples/``) runs it against the embedded moto server, or against
``DDB_ENDPOINT`` if set; ``app.demo.main(endpoint_url)`` uses a server you already run.
"""
