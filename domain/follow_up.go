package domain

import (
	"regexp"
	"strconv"
	"time"
)

// Follow-up: a goal's check-in cadence, the client's time zone and quiet
// hours, and the limits of the agenda and of push subscriptions.

// Agenda item kinds.
const (
	AgendaStepDue          = "step_due"
	AgendaCheckInDue       = "check_in_due"
	AgendaGroupSession     = "group_session"
	AgendaReferralFollowUp = "referral_follow_up"
)

// AgendaKinds lists the kinds of agenda items, in order.
func AgendaKinds() []string {
	return []string{AgendaStepDue, AgendaCheckInDue, AgendaGroupSession, AgendaReferralFollowUp}
}

// Agenda item references: what an item is about.
const (
	AgendaRefStep     = "step"
	AgendaRefGoal     = "goal"
	AgendaRefReferral = "referral"
	AgendaRefSession  = "group_session"
)

// AgendaRefTypes lists the types of record an agenda item refers to.
func AgendaRefTypes() []string {
	return []string{AgendaRefStep, AgendaRefGoal, AgendaRefReferral, AgendaRefSession}
}

// Limits of the follow-up features.
const (
	// MinCheckInEvery and MaxCheckInEvery bound a check-in cadence's length
	// in characters (P1D .. P1Y2M3W4D) ...
	MinCheckInEvery = 3
	MaxCheckInEvery = 12
	// ... and MinCheckInDays and MaxCheckInDays its span (a month counts 30
	// days, a year 365): from daily to yearly.
	MinCheckInDays = 1
	MaxCheckInDays = 366
	// ReferralFollowUpAfter is how long a referral may wait without a change
	// before it needs a follow-up.
	ReferralFollowUpAfter = 14 * 24 * time.Hour
	// MaxAgendaWindow bounds the span of GET /v1/me/agenda (from .. to).
	MaxAgendaWindow = 366 * 24 * time.Hour
	// MaxTimeZone bounds an IANA time zone name (the longest is 32).
	MaxTimeZone = 64
	// MaxPushEndpoint bounds a push subscription's endpoint URL.
	MinPushEndpoint = 9 // https://x
	MaxPushEndpoint = 2048
	// MaxPushKey bounds a push subscription key as sent (base64url of 65 or
	// 16 bytes, padded or not).
	MaxPushKey = 100
	// MaxPushSubscriptions bounds a client's push subscriptions (browsers and phones).
	MaxPushSubscriptions = 10
)

var checkInEveryRe = regexp.MustCompile(`^P(?:(\d{1,3})Y)?(?:(\d{1,3})M)?(?:(\d{1,3})W)?(?:(\d{1,3})D)?$`)

// CheckInEvery checks a check-in cadence: an ISO 8601 duration of years,
// months, weeks and days (P7D, P1W, P2W, P1M), from one day to a year.
// "" clears it.
func CheckInEvery(v string) (*string, error) {
	if v == "" {
		return nil, nil
	}
	const field = "check_in_every"
	m := checkInEveryRe.FindStringSubmatch(v)
	if m == nil || v == "P" || len(v) > MaxCheckInEvery {
		return nil, Invalid(field, "check_in_every is an ISO 8601 duration in days, weeks, months or years, such as P7D, P1W or P1M")
	}
	days := 0
	for i, per := range []int{365, 30, 7, 1} {
		if m[i+1] != "" {
			n, _ := strconv.Atoi(m[i+1])
			days += n * per
		}
	}
	if days < MinCheckInDays || days > MaxCheckInDays {
		return nil, Invalid(field, "check_in_every must be between a day (P1D) and a year (P1Y)")
	}
	return &v, nil
}

var clockRe = regexp.MustCompile(`^([01]\d|2[0-3]):[0-5]\d$`)

// validClock reports whether v is a local time of day HH:MM (24-hour).
func validClock(v string) bool { return clockRe.MatchString(v) }

// validTimeZone reports whether v is an IANA time zone name Go knows
// (PostgreSQL's list is checked where it is stored).
func validTimeZone(v string) bool {
	if v == "" || len(v) > MaxTimeZone || v == "Local" {
		return false
	}
	_, err := time.LoadLocation(v)
	return err == nil
}
