package smtpsink

import (
	"errors"
	"strings"
	"testing"

	"github.com/emersion/go-smtp"
)

func send(t *testing.T, addr string, to ...string) error {
	t.Helper()
	c, err := smtp.Dial(addr) // plain SMTP: smtp.SendMail insists on STARTTLS
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.SendMail("from@x.example", to, strings.NewReader("Subject: hi\r\n\r\nhello\r\n")); err != nil {
		return err
	}
	return c.Quit()
}

// TestSink sends mails with go-smtp's client: the sink counts expected
// recipients once each and every mail per recipient.
func TestSink(t *testing.T) {
	sink, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	if !strings.HasPrefix(sink.URL("rate=0"), "smtp://127.0.0.1:") {
		t.Errorf("url = %s", sink.URL("rate=0"))
	}
	sink.Expect(map[string]bool{"a@x.example": true, "b@x.example": true})
	for _, to := range []string{"a@x.example", "a@x.example", "c@x.example"} {
		if err := send(t, sink.Addr(), to); err != nil {
			t.Fatal(err)
		}
	}
	if got := sink.Received(); got != 1 {
		t.Errorf("received = %d, want 1 (a twice, c not expected)", got)
	}
	if err := send(t, sink.Addr(), "b@x.example"); err != nil {
		t.Fatal(err)
	}
	arrivals, perRcpt, sessions, size := sink.Snapshot()
	if sink.Received() != 2 || sink.Count() != 4 || len(arrivals) != 4 {
		t.Errorf("received %d, count %d, arrivals %d; want 2, 4, 4", sink.Received(), sink.Count(), len(arrivals))
	}
	if perRcpt["a@x.example"] != 2 || perRcpt["b@x.example"] != 1 || perRcpt["c@x.example"] != 1 {
		t.Errorf("perRcpt = %v", perRcpt)
	}
	if sessions != 4 || size <= 0 {
		t.Errorf("sessions %d, bytes %d", sessions, size)
	}
	for i := 1; i < len(arrivals); i++ {
		if arrivals[i].At.Before(arrivals[i-1].At) || len(arrivals[i].To) != 1 || arrivals[i].From != "from@x.example" {
			t.Errorf("arrival %d: %+v after %+v", i, arrivals[i], arrivals[i-1])
		}
	}
}

// TestPause: while paused new connections are refused and an open session
// gets 421 at MAIL FROM; after Resume the same port takes mail again.
func TestPause(t *testing.T) {
	sink, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	open, err := smtp.Dial(sink.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer open.Close()
	if err := open.Hello("client.example"); err != nil {
		t.Fatal(err)
	}
	sink.Pause()
	if err := send(t, sink.Addr(), "a@x.example"); err == nil {
		t.Error("a new connection succeeded while paused")
	}
	err = open.Mail("from@x.example", nil)
	var se *smtp.SMTPError
	if !errors.As(err, &se) || se.Code != 421 {
		t.Errorf("MAIL FROM on an open session while paused: %v, want 421", err)
	}
	if err := sink.Resume(); err != nil {
		t.Fatal(err)
	}
	if err := send(t, sink.Addr(), "a@x.example"); err != nil {
		t.Fatalf("after resume: %v", err)
	}
	if sink.Count() != 1 || sink.Refused() != 1 {
		t.Errorf("count %d, refused %d; want 1, 1", sink.Count(), sink.Refused())
	}
}
