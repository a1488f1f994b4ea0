# socialpush: everyday targets. `make test` and `make demo` do all set-up themselves.
LUA ?= lua5.4
BUILD := build/$(LUA)
FLAVOURS := lua5.4 lua5.1 lua5.3 luajit

.PHONY: all deps build test unit demo check lint sanitize valgrind fuzz bench rock clean

all: build

deps:
	@bash scripts/deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DLUA=$(LUA) >/dev/null
	@cmake --build $(BUILD) -j2 >/dev/null

## the whole suite (unit, core, end-to-end through the sandbox) on $(LUA)
## (the OpenResty and gateway specs run nginx's LuaJIT: they need the luajit build too)
test: build
	@$(MAKE) --no-print-directory build LUA=luajit
	@bash scripts/test.sh $(LUA) spec

## the core specs only, on every supported interpreter
unit: deps
	@for l in $(FLAVOURS); do $(MAKE) --no-print-directory build LUA=$$l && \
	  bash scripts/test.sh $$l spec/unit || exit 1; done

demo: build
	@$(LUA) examples/demo.lua

## luacheck (Lua, 120 columns), cppcheck, and C lines within 100 columns (.editorconfig)
lint:
	@luacheck -q lua spec bench examples sandbox
	@cppcheck -q --enable=warning --error-exitcode=1 --inline-suppr -I src src
	@awk 'length > 100 { print FILENAME ":" FNR ": line longer than 100 columns"; bad = 1 } END { exit bad }' \
	  src/*.c src/*.h fuzz/*.c spec/c/*.c

sanitize: deps
	@bash .ci/sanitize.sh

valgrind: build
	@bash .ci/valgrind.sh

fuzz: deps
	@bash .ci/fuzz.sh $${FUZZ_SECONDS:-60}

bench: build
	@bash bench/run.sh

rock: deps
	@bash .ci/rock.sh

clean:
	rm -rf build
