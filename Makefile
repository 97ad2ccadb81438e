# The two commands of the README: `make demo` and `make test`. Both set up .venv first.
.PHONY: setup demo test

setup:
	bash scripts/setup.sh

demo: setup
	bash scripts/demo.sh

test: setup
	bash scripts/test.sh
