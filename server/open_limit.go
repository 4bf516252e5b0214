package server

import (
	"fmt"
	"math"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/expirable"
	"github.com/labstack/echo/v4"
	"golang.org/x/time/rate"
)

// openLimits bounds what one client address can do with one open link: n
// drafts started and n submits a day, each a token bucket of n that refills
// over 24 hours. Dropping the cookie gives a fresh survey; this is what
// stops one device from answering k−1 times. In memory, per instance; the
// address is a map key only, never logged or stored, and forgotten within
// a day.
type openLimits struct {
	n   int // 0: no limit
	mu  sync.Mutex
	lru *expirable.LRU[string, *rate.Limiter]
}

// openLimitKeys bounds the memory: about 300 bytes a key. When more
// (campaign, address) pairs are active in a day, the oldest are forgotten
// early, which only someone with that many addresses can cause.
const openLimitKeys = 50_000

func newOpenLimits(n int) *openLimits {
	// A full day: a bucket forgotten after it refilled is the same as a new one.
	return &openLimits{n: n, lru: expirable.NewLRU[string, *rate.Limiter](openLimitKeys, nil, 24*time.Hour)}
}

// take spends one of the address's starts or submits ("start", "submit") on
// the campaign. When none is left it spends nothing and says how long until
// one is.
func (l *openLimits) take(what string, campaignID int64, ip string) (wait time.Duration, ok bool) {
	if l.n <= 0 {
		return 0, true
	}
	key := fmt.Sprintf("%s|%d|%s", what, campaignID, addressKey(ip))
	l.mu.Lock()
	lim, found := l.lru.Get(key)
	if !found {
		lim = rate.NewLimiter(rate.Every(24*time.Hour/time.Duration(l.n)), l.n)
		l.lru.Add(key, lim)
	}
	l.mu.Unlock()
	r := lim.Reserve()
	if d := r.Delay(); d > 0 {
		r.Cancel()
		return d, false
	}
	return 0, true
}

// addressKey is what a limit counts by: an IPv4 address, or an IPv6
// address's /64, which one subscriber usually holds whole.
func addressKey(ip string) string {
	p := net.ParseIP(ip)
	if p == nil || p.To4() != nil {
		return ip
	}
	return p.Mask(net.CIDRMask(64, 128)).String() + "/64"
}

// openLimit takes one start or submit of an open-link respondent's address;
// over the limit it is a 429 whose message says what happened and when to
// come back. Invitation links have no such limit: each is one person's.
func (a *App) openLimit(c echo.Context, rc *respondentCtx, what string) error {
	if rc.Invitation != nil {
		return nil
	}
	wait, ok := a.opens.take(what, rc.Campaign.ID, c.RealIP())
	if ok {
		return nil
	}
	c.Response().Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
	lang := localeOf(c)
	var when string
	switch {
	case wait <= time.Minute:
		when = a.i18n.T(lang, "survey.limited.in_a_minute", nil)
	case wait < 90*time.Minute:
		when = a.i18n.T(lang, "survey.limited.in_minutes", map[string]any{"N": int(math.Ceil(wait.Minutes()))})
	default:
		when = a.i18n.T(lang, "survey.limited.in_hours", map[string]any{"N": int(math.Round(wait.Hours()))})
	}
	return a.userError(c, http.StatusTooManyRequests, "survey.limited."+what, map[string]any{"N": a.opens.n, "When": when})
}
