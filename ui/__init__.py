"""Streamlit-side helpers shared by the pages: data access with caching, sidebar filters, chrome, charts, maps."""
