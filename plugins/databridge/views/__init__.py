"""The wizard and run monitor's backend: framework-free services (service, connections, preview, checks, runs) and
a thin FastAPI layer (api, routes, run_routes) mounted by the plugin under /databridge."""
