package bench

import (
	"io"
	"log"
	"net"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
)

// smtpSink is the SMTP server the tiltline child sends its mail to in P6: an
// emersion/go-smtp server in this process, on a free local port, without TLS
// or authentication. It accepts every mail, keeps no content, and records
// each mail's recipients and arrival time.
type smtpSink struct {
	srv  *smtp.Server
	addr string // 127.0.0.1:PORT

	mu       sync.Mutex
	arrivals []sinkArrival
	perRcpt  map[string]int // mails per RCPT TO address
	sessions int            // SMTP connections opened
	bytes    int64          // message data received

	want      map[string]bool // recipients expected (expect)
	delivered int             // of them, how many have had a mail
}

// sinkArrival is one accepted mail.
type sinkArrival struct {
	at time.Time
	to []string
}

func startSMTPSink() (*smtpSink, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &smtpSink{addr: ln.Addr().String(), perRcpt: map[string]int{}}
	s.srv = smtp.NewServer(s)
	s.srv.Domain = "sink.bench"
	s.srv.AllowInsecureAuth = true
	s.srv.ReadTimeout, s.srv.WriteTimeout = 30*time.Second, 30*time.Second
	s.srv.ErrorLog = log.New(io.Discard, "", 0)
	go s.srv.Serve(ln)
	return s, nil
}

// url is TILTLINE_SMTP_URL for the sink; query holds the mailer's settings
// (rate=, conns=; see parseSMTPURL in server/mail.go).
func (s *smtpSink) url(query string) string {
	return "smtp://" + s.addr + "?tls=none&" + query
}

func (s *smtpSink) close() { s.srv.Close() }

// count is the number of mails accepted so far.
func (s *smtpSink) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.arrivals)
}

// expect names the recipients whose first mails received counts.
func (s *smtpSink) expect(rcpts map[string]bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.want, s.delivered = rcpts, 0
	for to := range rcpts {
		if s.perRcpt[to] > 0 {
			s.delivered++
		}
	}
}

// received is how many of the expected recipients have had a mail.
func (s *smtpSink) received() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.delivered
}

// snapshot copies what the sink has recorded.
func (s *smtpSink) snapshot() (arrivals []sinkArrival, perRcpt map[string]int, sessions int, bytes int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	perRcpt = make(map[string]int, len(s.perRcpt))
	for k, v := range s.perRcpt {
		perRcpt[k] = v
	}
	return append([]sinkArrival(nil), s.arrivals...), perRcpt, s.sessions, s.bytes
}

// NewSession implements smtp.Backend.
func (s *smtpSink) NewSession(*smtp.Conn) (smtp.Session, error) {
	s.mu.Lock()
	s.sessions++
	s.mu.Unlock()
	return &sinkSession{sink: s}, nil
}

type sinkSession struct {
	sink *smtpSink
	to   []string
}

func (ss *sinkSession) Mail(string, *smtp.MailOptions) error { return nil }

func (ss *sinkSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.to = append(ss.to, to)
	return nil
}

func (ss *sinkSession) Data(r io.Reader) error {
	n, err := io.Copy(io.Discard, r)
	if err != nil {
		return err
	}
	at := time.Now()
	s := ss.sink
	s.mu.Lock()
	defer s.mu.Unlock()
	s.arrivals = append(s.arrivals, sinkArrival{at: at, to: ss.to})
	for _, to := range ss.to {
		if s.perRcpt[to]++; s.perRcpt[to] == 1 && s.want[to] {
			s.delivered++
		}
	}
	s.bytes += n
	ss.to = nil
	return nil
}

func (ss *sinkSession) Reset()        { ss.to = nil }
func (ss *sinkSession) Logout() error { return nil }
