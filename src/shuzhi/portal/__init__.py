"""Open data portal (数据开放): public catalogue, downloads, CKAN and DCAT interfaces."""
