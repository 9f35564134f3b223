"""The reviewer inbox's static files (index.html, inbox.js, inbox.css), served at /inbox by
`hitlgraph.server.routes.inbox`. A package so `importlib.resources` finds them in a wheel."""
