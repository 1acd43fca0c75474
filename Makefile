# Developer shortcuts. Each target mirrors a step of .ci/run, which stays
# the one definition of CI: `make ci` runs it. See CONTRIBUTING.md.

GO ?= go
FUZZTIME ?= 10s
export GOFLAGS ?= -buildvcs=false
export PATH := $(PATH):$(shell $(GO) env GOPATH)/bin

.PHONY: help all test quick lint tidy fmt vet staticcheck actionlint fuzz bench golden sim container ci

help: ## list the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/'

all: lint test ## lint, then the test command

test: ## the README's test command, as CI runs it (race detector, shuffled)
	$(GO) test -race -shuffle=on -count=1 ./...

quick: ## all tests without the race detector, for iterating
	$(GO) test ./...

lint: tidy fmt vet staticcheck actionlint ## every static check of .ci/run

tidy: ## go mod tidy would change nothing
	$(GO) mod tidy -diff

fmt: ## gofmt has nothing to change
	@out=$$(gofmt -l cmd internal); if [ -n "$$out" ]; then echo "not gofmt'd:"; echo "$$out"; exit 1; fi

vet: ## go vet
	$(GO) vet ./...

staticcheck: ## staticcheck (install: go install honnef.co/go/tools/cmd/staticcheck@v0.8.2)
	staticcheck ./...

actionlint: ## actionlint with shellcheck over the workflows and the starter workflow, shellcheck over .ci
	actionlint -shellcheck="$$(command -v shellcheck)" .github/workflows/*.yml workflows-templates/*.yml
	shellcheck .ci/run .ci/*.sh

fuzz: ## every native fuzz target for FUZZTIME each (CI: 45s)
	FUZZTIME=$(FUZZTIME) bash .ci/fuzz.sh

bench: ## the performance figures of the README as one table
	bash scripts/bench.sh

golden: ## regenerate every golden file: go test -update on each package that uses internal/testkit/golden
	$(GO) test -count=1 $$($(GO) list -f '{{.ImportPath}} {{join .TestImports " "}} {{join .XTestImports " "}}' ./... | awk '{for (i = 2; i <= NF; i++) if ($$i ~ /testkit\/golden$$/) {print $$1; break}}') -update

sim: ## the simulator's one-week profile (the README's figures)
	$(GO) test ./internal/sim -run TestProfile -v -sim.days=7

container: ## build the image and run it as GitHub's runner does (root; installs buildah and podman)
	bash .ci/container.sh

ci: ## everything CI runs, on a fresh machine (root; installs its tools)
	bash .ci/run
