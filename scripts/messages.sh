#!/bin/sh
# Refresh the message catalogue after changing a marked string (issue 13.14): extract the English
# source strings, merge them into the Danish .po (translate the new entries there), compile the .mo.
set -e
cd "$(dirname "$0")/.."
pybabel extract -F babel.cfg -k N_ --no-location --sort-output --project coder -o coder/locale/coder.pot .
pybabel update -i coder/locale/coder.pot -d coder/locale -D coder -l da --no-fuzzy-matching
pybabel compile -d coder/locale -D coder -l da --statistics
