"""The public site and API (app.py), serving the published bundle (bundle.py) as pages in the
GOV.UK Design System's markup (templates/) and JSON/CSV under /api/v1."""
