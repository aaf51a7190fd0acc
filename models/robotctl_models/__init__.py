"""robotctl's model tools: the example-model generator (make_models), the checkpoint importers (lewm_import,
vjepa2ac_import) and their modules, the authors'-code reference drivers for the parity scripts, and the PyTorch CEM
baseline. Run a module as `PYTHONPATH=models /usr/bin/python3 -m robotctl_models.<module>` (models/README.md)."""
