"""`python -m hitlgraph.cli`: the same as the `hitlgraph` command."""

from hitlgraph.cli import main

if __name__ == "__main__":
    main()
