package bench

import (
	"strings"
	"testing"

	"github.com/emersion/go-smtp"
)

// TestSMTPSink sends mails to the sink with go-smtp's client: it counts
// expected recipients once each and every mail per recipient.
func TestSMTPSink(t *testing.T) {
	sink, err := startSMTPSink()
	if err != nil {
		t.Fatal(err)
	}
	defer sink.close()
	if !strings.HasPrefix(sink.url("rate=0"), "smtp://127.0.0.1:") {
		t.Errorf("url = %s", sink.url("rate=0"))
	}
	sink.expect(map[string]bool{"a@x.example": true, "b@x.example": true})
	send := func(to ...string) {
		t.Helper()
		msg := "Subject: hi\r\n\r\nhello\r\n"
		c, err := smtp.Dial(sink.addr) // plain SMTP: smtp.SendMail insists on STARTTLS
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := c.SendMail("from@x.example", to, strings.NewReader(msg)); err != nil {
			t.Fatal(err)
		}
		if err := c.Quit(); err != nil {
			t.Fatal(err)
		}
	}
	send("a@x.example")
	send("a@x.example")
	send("c@x.example")
	if got := sink.received(); got != 1 {
		t.Errorf("received = %d, want 1 (a twice, c not expected)", got)
	}
	send("b@x.example")
	arrivals, perRcpt, sessions, size := sink.snapshot()
	if sink.received() != 2 || sink.count() != 4 || len(arrivals) != 4 {
		t.Errorf("received %d, count %d, arrivals %d; want 2, 4, 4", sink.received(), sink.count(), len(arrivals))
	}
	if perRcpt["a@x.example"] != 2 || perRcpt["b@x.example"] != 1 || perRcpt["c@x.example"] != 1 {
		t.Errorf("perRcpt = %v", perRcpt)
	}
	if sessions != 4 || size <= 0 {
		t.Errorf("sessions %d, bytes %d", sessions, size)
	}
	for i := 1; i < len(arrivals); i++ {
		if arrivals[i].at.Before(arrivals[i-1].at) || len(arrivals[i].to) != 1 {
			t.Errorf("arrival %d: %+v after %+v", i, arrivals[i], arrivals[i-1])
		}
	}
}
