"""The API's routes, one module per resource, as the LangGraph server lays them out."""
