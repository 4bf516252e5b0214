// Package smtpsink is an SMTP server for tests and benchmarks: an
// emersion/go-smtp server in the calling process, on a free local port,
// without TLS or authentication. It accepts every mail, keeps no content,
// and records each mail's sender, recipients and arrival time.
//
// Pause and Resume simulate an outage of the mail server: while paused the
// port refuses connections and open sessions answer 421 to MAIL FROM, so a
// client learns of the outage before it sends a mail's content — the
// outage a well-behaved SMTP server has when it goes down for maintenance.
package smtpsink

import (
	"errors"
	"io"
	"log"
	"net"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
)

// Sink is a running SMTP sink. Its methods are safe for concurrent use.
type Sink struct {
	srv  *smtp.Server
	addr string // 127.0.0.1:PORT

	mu       sync.Mutex
	ln       net.Listener // nil while paused
	paused   bool
	arrivals []Arrival
	perRcpt  map[string]int // mails per RCPT TO address
	sessions int            // SMTP connections opened
	refused  int            // MAIL FROM answered 421 while paused
	bytes    int64          // message data received

	want      map[string]bool // recipients expected (Expect)
	delivered int             // of them, how many have had a mail
}

// Arrival is one accepted mail.
type Arrival struct {
	At   time.Time
	From string
	To   []string
}

// Start listens on a free local port and serves until Close.
func Start() (*Sink, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Sink{addr: ln.Addr().String(), perRcpt: map[string]int{}, ln: ln}
	s.srv = smtp.NewServer(s)
	s.srv.Domain = "sink.test"
	s.srv.AllowInsecureAuth = true
	s.srv.ReadTimeout, s.srv.WriteTimeout = 30*time.Second, 30*time.Second
	s.srv.ErrorLog = log.New(io.Discard, "", 0)
	go s.srv.Serve(ln)
	return s, nil
}

// Addr is the sink's 127.0.0.1:PORT.
func (s *Sink) Addr() string { return s.addr }

// URL is TILTLINE_SMTP_URL for the sink; query holds the mailer's settings
// (rate=, conns=; see parseSMTPURL in server/mail.go).
func (s *Sink) URL(query string) string {
	return "smtp://" + s.addr + "?tls=none&" + query
}

// Close stops the sink and drops its connections.
func (s *Sink) Close() { s.srv.Close() }

// Pause starts an outage: the port refuses connections, and sessions still
// open answer 421 to the next MAIL FROM. Mails whose content is being
// received complete normally.
func (s *Sink) Pause() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.paused {
		return
	}
	s.paused = true
	s.ln.Close()
	s.ln = nil
}

// Resume ends an outage: the sink listens on its port again.
func (s *Sink) Resume() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.paused {
		return nil
	}
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		return err
	}
	s.ln, s.paused = ln, false
	go s.srv.Serve(ln)
	return nil
}

// Count is the number of mails accepted so far.
func (s *Sink) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.arrivals)
}

// Expect names the recipients whose first mails Received counts.
func (s *Sink) Expect(rcpts map[string]bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.want, s.delivered = rcpts, 0
	for to := range rcpts {
		if s.perRcpt[to] > 0 {
			s.delivered++
		}
	}
}

// Received is how many of the expected recipients have had a mail.
func (s *Sink) Received() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.delivered
}

// Refused is how many MAIL FROM commands were answered 421 during pauses.
func (s *Sink) Refused() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refused
}

// Snapshot copies what the sink has recorded.
func (s *Sink) Snapshot() (arrivals []Arrival, perRcpt map[string]int, sessions int, bytes int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	perRcpt = make(map[string]int, len(s.perRcpt))
	for k, v := range s.perRcpt {
		perRcpt[k] = v
	}
	return append([]Arrival(nil), s.arrivals...), perRcpt, s.sessions, s.bytes
}

// NewSession implements smtp.Backend.
func (s *Sink) NewSession(*smtp.Conn) (smtp.Session, error) {
	s.mu.Lock()
	s.sessions++
	s.mu.Unlock()
	return &session{sink: s}, nil
}

type session struct {
	sink *Sink
	from string
	to   []string
}

var errUnavailable = &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 3, 2}, Message: "Service not available, closing transmission channel"}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	s := ss.sink
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.paused {
		s.refused++
		return errUnavailable
	}
	ss.from = from
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	n, err := io.Copy(io.Discard, r)
	if err != nil {
		return err
	}
	if len(ss.to) == 0 {
		return errors.New("no recipients")
	}
	at := time.Now()
	s := ss.sink
	s.mu.Lock()
	defer s.mu.Unlock()
	s.arrivals = append(s.arrivals, Arrival{At: at, From: ss.from, To: ss.to})
	for _, to := range ss.to {
		if s.perRcpt[to]++; s.perRcpt[to] == 1 && s.want[to] {
			s.delivered++
		}
	}
	s.bytes += n
	ss.to = nil
	return nil
}

func (ss *session) Reset()        { ss.from, ss.to = "", nil }
func (ss *session) Logout() error { return nil }
