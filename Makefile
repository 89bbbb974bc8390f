# Every target uses the pinned Deno in .tools/bin (installed by `make deno` from tools/deno/package*.json).
DENO := $(CURDIR)/.tools/bin/deno
export PATH := $(CURDIR)/.tools/bin:$(PATH)
export DENO_NO_UPDATE_CHECK := 1

.PHONY: deno deps build test demo fmt lint check bench clean

deno: $(DENO)

$(DENO): tools/deno/package.json tools/deno/package-lock.json tools/install_deno.sh
	bash tools/install_deno.sh

deps: $(DENO)
	$(DENO) install --frozen --quiet

build: deps
	bash tools/build.sh

test: deps build
	bash tools/test.sh

demo: deps build
	bash tools/demo.sh

fmt: $(DENO)
	$(DENO) fmt

lint: $(DENO)
	$(DENO) lint

check: deps
	$(DENO) check '**/*.ts'

bench: deps build
	bash tools/bench.sh

clean:
	rm -rf dist tests/.build
