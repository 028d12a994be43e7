// Command kefu-loadgen drives a Kefu server with the real protocol and
// measures it; see docs/loadgen.md.
package main

import (
	"os"

	"github.com/kefu-chat/kefu/internal/loadgen"
)

func main() { os.Exit(loadgen.Main(os.Args[1:])) }
