package loadgen

import (
	"strings"
	"testing"
)

func TestParseMetrics(t *testing.T) {
	text := `# HELP process_resident_memory_bytes Resident memory size in bytes.
# TYPE process_resident_memory_bytes gauge
process_resident_memory_bytes 4.5137920e+07
process_resident_memory_bytes_total 1
go_memstats_heap_inuse_bytes{} 2048
go_goroutines 12
`
	got, err := parseMetrics(strings.NewReader(text), "process_resident_memory_bytes", "go_memstats_heap_inuse_bytes", "absent")
	if err != nil {
		t.Fatal(err)
	}
	if got["process_resident_memory_bytes"] != 45137920 || got["go_memstats_heap_inuse_bytes"] != 2048 || len(got) != 2 {
		t.Errorf("got %v", got)
	}
}
