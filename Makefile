# threadlings: every command a student, an instructor or CI needs.
# The course itself is exercises/manifest.toml; tools/threadlings reads it
# and calls the generic build rules at the bottom of this file, once per
# exercise and variant.  Adding an exercise never touches this file.

PYTHON ?= python3
KIT     = $(PYTHON) tools/threadlings
KIT_OPTIONS = $(if $(EX),--exercise $(EX)) $(if $(JOBS),--jobs $(JOBS)) \
              $(if $(JUNIT),--junit $(JUNIT))
CHECKS  = functional tsan helgrind asan

.PHONY: help deps test verify $(CHECKS) hint list clean

help:
	@echo "threadlings: learn POSIX threads by making failing checks pass"
	@echo
	@echo "  make deps          install what the kit needs (Debian packages)"
	@echo "  make list          the exercises, in course order"
	@echo "  make test          run every check of every exercise"
	@echo "  make test EX=03    one exercise (its number or its name)"
	@echo "  make functional | tsan | helgrind | asan [EX=03]   one checker"
	@echo "  make hint EX=03    the next hint for an exercise"
	@echo "  make verify        the kit's own test: solutions pass, stubs"
	@echo "                     and mutants fail"
	@echo "  make clean         remove build/"
	@echo
	@echo "Instructors (README.md, \"Grading\"):"
	@echo "  make grade SUBMISSIONS=class/ GRADES=grades/ [JOBS=n] [EX=NN]"
	@echo "                     grade a folder of submissions"
	@echo "  make gradescope    build/gradescope/autograder.zip"
	@echo "  make grade-selftest  the grader's own test (bad submissions)"
	@echo
	@echo "Options: JOBS=n (parallel exercises), JUNIT=file.xml (also write"
	@echo "JUnit XML).  Results: build/results.json"

deps:
	@sh tools/deps.sh

test:
	@$(KIT) test $(KIT_OPTIONS)

$(CHECKS):
	@$(KIT) test --check $@ $(KIT_OPTIONS)

verify:
	@$(KIT) verify $(KIT_OPTIONS)

hint:
	@$(KIT) hint $(EX)

list:
	@$(KIT) list

clean:
	rm -rf build

# ---------------------------------------------------------------------------
# Generic build rules for one variant of one exercise.  The runner sets
#   EX    the exercise directory name (e.g. 01_start_join)
#   SRC   where the student's files of this variant are
#   EDIT  those files' names (from the manifest)
#   OUT   where the binaries go
#   LIBS  extra libraries the exercise links with (from the manifest)
# Headers, tests and flags always come from the kit itself.

ifdef OUT
CC       ?= gcc
STRICT    = -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Wpedantic \
            -Werror -pthread
INCLUDES  = -I exercises/$(EX) -I tests/harness
CRITERION = $(shell pkg-config --cflags --libs criterion 2>/dev/null || echo -lcriterion)

# The code under test may not end the test early, and its condition waits
# get injected spurious wake-ups, and its locks and unlocks can be held
# (tests/harness/*.c say why).  Workloads wrap only lock and unlock.
WRAPPED   = exit _exit _Exit quick_exit pthread_exit pthread_create \
            pthread_cond_wait pthread_cond_timedwait pthread_mutex_lock \
            pthread_mutex_unlock
WRAP      = $(foreach f,$(WRAPPED),-Wl,--wrap=$(f))
WORKLOAD_WRAP = -Wl,--wrap=pthread_mutex_lock -Wl,--wrap=pthread_mutex_unlock

# -O0: an optimiser can hoist an unlocked counter++ out of its loop and
# hide the race from the functional tests.
FUNCTIONAL_FLAGS = -O0 -g
ASAN_FLAGS       = -O0 -g -fsanitize=address,undefined \
                   -fno-sanitize-recover=undefined -fno-omit-frame-pointer
TSAN_FLAGS       = -O1 -g -fsanitize=thread
HELGRIND_FLAGS   = -O0 -g

STUDENT_SOURCES  = $(addprefix $(SRC)/,$(EDIT))
HEADERS          = $(wildcard exercises/$(EX)/*.h tests/harness/*.h \
                              tests/$(EX)/*.h)
# tests/NN/support_*.c: test helpers that tests and workload share.
SUPPORT_SOURCES  = $(wildcard tests/$(EX)/support_*.c)
TEST_SOURCES     = $(wildcard tests/$(EX)/test_*.c) $(SUPPORT_SOURCES) \
                   $(filter-out tests/harness/workload.c,$(wildcard tests/harness/*.c))
WORKLOAD_SOURCES = tests/$(EX)/workload.c $(SUPPORT_SOURCES) \
                   tests/harness/workload.c tests/harness/clock.c \
                   tests/harness/interleavings.c

$(OUT):
	@mkdir -p $@

$(OUT)/functional: $(STUDENT_SOURCES) $(TEST_SOURCES) $(HEADERS) | $(OUT)
	$(CC) $(STRICT) $(FUNCTIONAL_FLAGS) $(INCLUDES) -o $@ \
	    $(STUDENT_SOURCES) $(TEST_SOURCES) $(WRAP) $(CRITERION) $(LIBS)

$(OUT)/asan: $(STUDENT_SOURCES) $(TEST_SOURCES) $(HEADERS) | $(OUT)
	$(CC) $(STRICT) $(ASAN_FLAGS) $(INCLUDES) -o $@ \
	    $(STUDENT_SOURCES) $(TEST_SOURCES) $(WRAP) $(CRITERION) $(LIBS)

$(OUT)/tsan: $(STUDENT_SOURCES) $(WORKLOAD_SOURCES) $(HEADERS) | $(OUT)
	$(CC) $(STRICT) $(TSAN_FLAGS) $(INCLUDES) -o $@ \
	    $(STUDENT_SOURCES) $(WORKLOAD_SOURCES) $(WORKLOAD_WRAP) $(LIBS)

$(OUT)/helgrind: $(STUDENT_SOURCES) $(WORKLOAD_SOURCES) $(HEADERS) | $(OUT)
	$(CC) $(STRICT) $(HELGRIND_FLAGS) $(INCLUDES) -o $@ \
	    $(STUDENT_SOURCES) $(WORKLOAD_SOURCES) $(WORKLOAD_WRAP) $(LIBS)
endif

# ---------------------------------------------------------------------------
# Grading a class (tools/grade; README.md, "Grading").
#   make grade SUBMISSIONS=class/ GRADES=grades/ [JOBS=n] [EX=NN]
#   make gradescope       build/gradescope/autograder.zip
#   make grade-selftest   the grader's own test (tests/grading/)
.PHONY: grade gradescope grade-selftest

grade:
	@$(PYTHON) tools/grade batch \
	    $(or $(SUBMISSIONS),$(error give SUBMISSIONS=folder of submissions)) \
	    $(or $(GRADES),$(error give GRADES=folder for the grades)) \
	    $(if $(EX),--exercise $(EX)) $(if $(JOBS),--jobs $(JOBS))

gradescope:
	@$(PYTHON) tools/grade gradescope-zip $(if $(EX),--exercise $(EX))

grade-selftest:
	@$(PYTHON) tools/grade selftest $(if $(JOBS),--jobs $(JOBS))
