// Command tiltline serves the Tiltline customer-experience self-assessment.
// See README.md; the commands are described by `tiltline help`.
package main

import (
	"os"

	"tiltline/server"
)

func main() {
	os.Exit(server.Main(os.Args[1:], os.Stdout, os.Stderr))
}
