package portal

import "testing"

func TestPagePath(t *testing.T) {
	if got := PagePath("winback", "AC-06"); got != "/learn/winback#AC-06" {
		t.Errorf("got %q", got)
	}
	if got := PagePath("winback", ""); got != "/learn/winback" {
		t.Errorf("got %q", got)
	}
}
