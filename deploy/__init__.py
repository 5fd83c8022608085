"""Running the dashboard as several replicas behind nginx (deploy/README.md): the nginx config
(``deploy.nginx``) and the container's health check (``deploy.healthcheck``)."""
