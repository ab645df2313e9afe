"""The DataBridge UI: a framework-free service (service.py) and a thin FastAPI layer (api.py)."""
