# make test       every test, with real Apache Kafka (what CI runs)
# make test-unit  the fast tests only: embedded broker, no external services
# make build      bin/tipline
# make bench      the throughput and latency benchmark on the embedded broker

.PHONY: test test-unit build bench fuzz

test:
	scripts/test.sh

test-unit:
	go test -race ./...

build:
	go build -o bin/tipline ./cmd/tipline

bench: build
	bin/tipline bench

# Each fuzz target for 20s.
fuzz:
	go test ./classify -run '^$$' -fuzz '^FuzzAnalyze$$' -fuzztime 20s
	go test ./classify -run '^$$' -fuzz '^FuzzMatcherAgreesWithStringsIndex$$' -fuzztime 20s
	go test ./ingest/webform -run '^$$' -fuzz '^FuzzSubmit$$' -fuzztime 20s
	go test ./ingest/webform -run '^$$' -fuzz '^FuzzParseReceipt$$' -fuzztime 20s
	go test ./ingest/webform -run '^$$' -fuzz '^FuzzSniff$$' -fuzztime 20s
	go test ./internal/scrub -run '^$$' -fuzz '^FuzzImage$$' -fuzztime 20s
	go test ./internal/tip -run '^$$' -fuzz '^FuzzUnmarshal$$' -fuzztime 20s
	go test ./internal/scanfile -run '^$$' -fuzz '^FuzzInspect$$' -fuzztime 20s
	go test ./ingest/ocr -run '^$$' -fuzz '^FuzzParseTSV$$' -fuzztime 20s
	go test ./ingest/letter -run '^$$' -fuzz '^FuzzAddressee$$' -fuzztime 20s
	go test ./ingest/email -run '^$$' -fuzz '^FuzzParse$$' -fuzztime 20s
	go test ./index -run '^$$' -fuzz '^FuzzSearch$$' -fuzztime 20s
