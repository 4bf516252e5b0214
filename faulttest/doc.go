// Package faulttest holds fault-injection tests that run the real tiltline
// binary as child processes and break things under load: the server killed
// with SIGKILL (R1), Postgres restarted under it (R2), the SMTP server down
// during a send (R3), two servers sharing one outbox (R4).
//
// TestMain builds the binary once (tmp/tiltline under the module root). The
// Postgres tests start a throwaway cluster of their own from the installed
// server binaries (/usr/lib/postgresql/*/bin), because R2 restarts it; they
// skip with a message when those are absent, except under CI=true, where
// they fail instead (as survey/surveytest does).
package faulttest
