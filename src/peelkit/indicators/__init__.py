"""The PEEL indicators: a declarative catalogue (catalogue.toml) and, later, their computation."""
