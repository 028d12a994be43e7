# The whole developer workflow. `make test` is the README's test command.
GO ?= go
PKG := ./...

.PHONY: build run test test-short bench fuzz loadgen docs lint

build:
	CGO_ENABLED=0 $(GO) build -trimpath -o bin/kefu ./cmd/kefu
	CGO_ENABLED=0 $(GO) build -trimpath -o bin/kefu-loadgen ./cmd/kefu-loadgen

run:
	$(GO) run ./cmd/kefu

# Every test, with the race detector, against real SQLite files and the
# PostgreSQL on 127.0.0.1:5432 (required; see README).
test:
	$(GO) test -race -count=1 -timeout 15m $(PKG)

test-short:
	$(GO) test -count=1 $(PKG)

bench:
	$(GO) test -run '^$$' -bench . -benchmem $(PKG)

# A short fuzzing pass over every decoder.
fuzz:
	$(GO) test -run '^$$' -fuzz FuzzDecode -fuzztime 30s ./internal/protocol/

docs:
	$(GO) test ./internal/config -update

lint:
	gofmt -l $$(git ls-files '*.go')
	$(GO) vet $(PKG)
