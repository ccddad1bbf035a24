# threadlings: every command a student, an instructor or CI needs.
# The course is exercises/manifest.toml, the checks (with their compiler
# flags and tools) are tools/kit/registry.py; tools/threadlings reads both,
# builds and runs.  Adding an exercise or a check never touches this file.

PYTHON ?= python3
KIT     = $(PYTHON) tools/threadlings
KIT_OPTIONS = $(if $(EX),--exercise $(EX)) $(if $(JOBS),--jobs $(JOBS)) \
              $(if $(JUNIT),--junit $(JUNIT))
TEST_OPTIONS = $(KIT_OPTIONS) $(if $(FULL),--full)
VERIFY_OPTIONS = $(if $(REPEAT),--repeat $(REPEAT))
# One target per check of the registry: `make tsan EX=03`.
CHECKS := $(shell $(KIT) checks)

.PHONY: help deps doctor test verify $(CHECKS) hint list clean status next \
        watch reset student-copy timings

help:
	@echo "threadlings: learn POSIX threads by making failing checks pass"
	@echo
	@echo "  make deps          install what the kit needs (Debian packages)"
	@echo "  make doctor        is this machine ready for every check?"
	@echo "  make list          the exercises, in course order"
	@echo "  make test          run every check of every exercise"
	@echo "  make test EX=03    one exercise (its number or its name)"
	@echo "  make CHECK [EX=03] one check; the checks:"
	@$(KIT) checks --describe | sed 's/^/                       /'
	@echo "  make status        every exercise's checks (last runs), and the next"
	@echo "  make next          test the first exercise that does not pass yet"
	@echo "  make watch [EX=03] test again each time the file is saved"
	@echo "  make hint EX=03    the next hint for an exercise (N=2: hint 2 again)"
	@echo "  make reset EX=03   put the stub back (asks; FORCE=1 does not)"
	@echo "  make verify        the kit's own test: solutions pass, stubs"
	@echo "                     and mutants fail (REPEAT=n: each mutant's"
	@echo "                     check n times, all must catch it)"
	@echo "  make compile_commands.json   for clangd (editors: go to definition, errors)"
	@echo "  make clean         remove build/"
	@echo
	@echo "Instructors (README.md, \"Grading\"):"
	@echo "  make grade SUBMISSIONS=class/ GRADES=grades/ [JOBS=n] [EX=NN]"
	@echo "                     grade a folder of submissions"
	@echo "  make gradescope [EX=01,02]  build/gradescope/autograder.zip"
	@echo "  make github-classroom [EX=01,02]  a GitHub Classroom workflow"
	@echo "  make student-copy DEST=dir  the kit without solutions (+ .tar.gz)"
	@echo "  make grade-selftest  the grader's own test (bad submissions)"
	@echo
	@echo "Benchmarks (README.md, \"Benchmarks\"):"
	@echo "  make deps-bench    install gnuplot and the compared libraries"
	@echo "  make bench [EX=04] [IMPL=student|reference]   timings, tables,"
	@echo "                     charts in build/bench/"
	@echo "  make bench-feedback [EX=01]   how fast make test answers code"
	@echo "                     that deadlocks, spins or loses a wake-up"
	@echo
	@echo "Options: JOBS=n (parallel exercises), JUNIT=file.xml (also write"
	@echo "JUnit XML), FULL=1 (make test: run a check's other tests even"
	@echo "after one hangs).  Results: build/results.json"

deps:
	@sh tools/deps.sh

test:
	@$(KIT) test $(TEST_OPTIONS)

$(CHECKS):
	@$(KIT) test --check $@ $(TEST_OPTIONS)

verify:
	@$(KIT) verify $(KIT_OPTIONS) $(VERIFY_OPTIONS)

hint:
	@$(KIT) hint $(EX) $(if $(N),--stage $(N))

list:
	@$(KIT) list

doctor:
	@$(KIT) doctor

# Maintainers: time the reference solutions (the time limits derive from it).
timings:
	@$(KIT) timings $(if $(EX),--exercise $(EX))

status:
	@$(KIT) status

next:
	@$(KIT) next

watch:
	@$(KIT) watch $(EX)

reset:
	@$(KIT) reset $(or $(EX),$(error give EX=NN)) $(if $(FORCE),--force)

compile_commands.json: exercises/manifest.toml
	@$(KIT) compile-commands

student-copy:
	@$(KIT) student-copy $(or $(DEST),$(error give DEST=folder))

clean:
	rm -rf build

# ---------------------------------------------------------------------------
# Grading a class (tools/grade; README.md, "Grading").
#   make grade SUBMISSIONS=class/ GRADES=grades/ [JOBS=n] [EX=NN]
#   make gradescope       build/gradescope/autograder.zip
#   make grade-selftest   the grader's own test (tests/selftest/grading/)
.PHONY: grade gradescope github-classroom grade-selftest bench-gradescope

grade:
	@$(PYTHON) tools/grade batch \
	    $(or $(SUBMISSIONS),$(error give SUBMISSIONS=folder of submissions)) \
	    $(or $(GRADES),$(error give GRADES=folder for the grades)) \
	    $(if $(EX),--exercise $(EX)) $(if $(JOBS),--jobs $(JOBS))

gradescope:
	@$(PYTHON) tools/grade gradescope-zip $(if $(EX),--exercise $(EX))

# Gradescope's time for a whole correct submission and for the stubs, one
# core each (README.md's time limit comes from it).
bench-gradescope:
	@$(PYTHON) tools/grade gradescope-bench

# GitHub Classroom: .github/workflows/classroom.yml for a template repository.
github-classroom:
	@mkdir -p build
	@$(PYTHON) tools/grade github-classroom $(if $(EX),--exercise $(EX)) \
	    > build/github-classroom.yml
	@echo "build/github-classroom.yml: copy it to .github/workflows/classroom.yml"

grade-selftest:
	@$(PYTHON) tools/grade selftest $(if $(JOBS),--jobs $(JOBS))

# ---------------------------------------------------------------------------
# Benchmarks (tests/bench/, tools/kit/bench.py; README.md, "Benchmarks").
#   make deps-bench   gnuplot and the libraries compared (bench only)
#   make bench [EX=NN] [IMPL=student|reference] [ROUNDS=n]
.PHONY: bench bench-feedback deps-bench

deps-bench:
	@sh tools/deps-bench.sh

bench:
	@$(PYTHON) tools/kit/bench.py $(if $(EX),--exercise $(EX)) \
	    $(if $(IMPL),--impl $(IMPL)) $(if $(ROUNDS),--rounds $(ROUNDS))

# How fast `make test` answers wrong versions that deadlock, spin or lose a
# wake-up (tests/bench/feedback/).
bench-feedback:
	@$(KIT) bench-feedback $(if $(EX),--exercise $(EX))
