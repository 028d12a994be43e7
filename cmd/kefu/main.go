// Command kefu is the Kefu customer-service server.
package main

import (
	"context"
	"os"

	"github.com/kefu-chat/kefu/internal/app"
)

func main() {
	os.Exit(app.Main(context.Background(), os.Args[1:], os.Stdout, os.Stderr, os.Getenv))
}
