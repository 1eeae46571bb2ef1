package api_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/google/uuid"

	"github.com/waypoint-portal/waypoint/api/apitest"
)

// The rows of the authorization matrix. Columns of mxWant: client (alice),
// other client (bob), care-team worker (wanda), other worker (will), admin
// (adam), directory editor (ed), role-less (nobody); the supporter (sam,
// no role, alice's supporter with every share) gets sup, or the role-less
// status when sup is 0. "as" is whose identity
// the app tokens carry; the app, no-token and expired-token columns follow
// from it and from the operation's scope (see expect).

// Who sees what, in one line each: a client-care row is what the client and
// their care team share (goals, referrals, saved services, messages).
func careRead() mxWant  { return mxWant{200, 404, 200, 404, 404, 404, 403} }
func careWrite() mxWant { return mxWant{201, 404, 201, 404, 404, 404, 403} }
func careEdit() mxWant  { return careRead() }
func everyone() mxWant  { return mxWant{200, 200, 200, 200, 200, 200, 200} }
func anyRole() mxWant   { return mxWant{200, 200, 200, 200, 200, 200, 403} }

// sharedRead is a care-team read a client may also share with supporters:
// role-less persons may call it, and see only what was shared with them.
func sharedRead() mxWant { return mxWant{200, 404, 200, 404, 404, 404, 404} }

func mxPeopleOps() map[string]mxOp {
	return map[string]mxOp{
		"getHealth":    {as: mxClient, want: everyone(), req: plain},
		"getReadiness": {as: mxClient, want: everyone(), req: plain},
		"getMe":        {as: mxClient, want: everyone(), req: plain},
		"patchMe": {as: mxClient, want: everyone(), req: func(w *mxWorld, u apitest.User) mxReq {
			return mxReq{body: map[string]any{"pronouns": "they/them"}, ifMatch: w.ifMatch("people", u.PersonID.String())}
		}},
		"listPeople":  {as: mxAdmin, want: mxWant{403, 403, 403, 403, 200, 403, 403}, req: plain},
		"listClients": {as: mxClient, want: anyRole(), req: plain},
		"getClient":   {as: mxClient, want: mxWant{200, 404, 200, 404, 200, 404, 403}, req: plain},
		"patchClient": {as: mxClient, want: mxWant{200, 404, 200, 404, 403, 404, 403}, req: func(w *mxWorld, _ apitest.User) mxReq {
			return mxReq{body: map[string]any{"interests": []string{"cooking"}}, ifMatch: w.ifMatch("clients", w.params["clientId"])}
		}},
		"getCareTeam": {as: mxClient, want: mxWant{200, 404, 200, 404, 200, 404, 403}, req: plain},
		// Walt is off the team before each call, so adding him is 201.
		"putCareTeamMember": {as: mxAdmin, want: mxWant{403, 404, 403, 404, 201, 404, 403},
			setup: func(_ *testing.T, w *mxWorld) map[string]string {
				w.exec(`DELETE FROM care_team_members WHERE person_id = ?`, w.walt.PersonID)
				return nil
			}, req: body(map[string]any{"team_role": "housing navigator"})},
		"deleteCareTeamMember": {as: mxAdmin, want: mxWant{403, 404, 403, 404, 204, 404, 403},
			setup: func(_ *testing.T, w *mxWorld) map[string]string {
				w.exec(`INSERT INTO care_team_members (client_id, person_id, team_role, added_by) VALUES (?, ?, '', ?)
					ON CONFLICT DO NOTHING`, w.people[mxClient].ClientID, w.walt.PersonID, w.people[mxAdmin].PersonID)
				return nil
			}, req: plain},
		"listSavedServices": {as: mxClient, want: sharedRead(), sup: 200, req: plain},
		// The shelter is off alice's list before each call, so saving it is 201.
		"saveService": {as: mxClient, want: careWrite(), setup: func(_ *testing.T, w *mxWorld) map[string]string {
			w.exec(`DELETE FROM saved_services WHERE client_id = ? AND service_id = ?`, w.people[mxClient].ClientID, svcShelter)
			return map[string]string{"serviceId": svcShelter.String()}
		}, req: plain},
		"unsaveService": {as: mxClient, want: mxWant{204, 404, 204, 404, 404, 404, 403}, setup: func(_ *testing.T, w *mxWorld) map[string]string {
			w.exec(`INSERT INTO saved_services (client_id, service_id, id, saved_by) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`,
				w.people[mxClient].ClientID, svcShelter, uuid.Must(uuid.NewV7()), w.people[mxClient].PersonID)
			return map[string]string{"serviceId": svcShelter.String()}
		}, req: plain},
	}
}

func mxGoalOps() map[string]mxOp {
	// A fresh proposal of wanda's for alice, for accepting and rejecting.
	proposal := func(_ *testing.T, w *mxWorld) map[string]string {
		return map[string]string{"goalId": w.created(w.people[mxTeamWorker], "/v1/clients/"+w.params["clientId"]+"/goals",
			map[string]any{"title": "Open a savings account"})}
	}
	return map[string]mxOp{
		"listGoals":        {as: mxClient, want: sharedRead(), sup: 200, req: plain},
		"getGoal":          {as: mxClient, want: sharedRead(), sup: 200, req: plain},
		"listGoalHistory":  {as: mxClient, want: sharedRead(), sup: 200, req: plain},
		"listGoalCheckIns": {as: mxClient, want: sharedRead(), sup: 200, req: plain},
		"createGoal":       {as: mxClient, want: careWrite(), req: body(map[string]any{"title": "Get my driving licence back"})},
		"addGoalStep":      {as: mxClient, want: careWrite(), req: body(map[string]any{"title": "Book the test"})},
		"addGoalCheckIn":   {as: mxClient, want: careWrite(), req: body(map[string]any{"rating": 6})},
		"patchGoal": {as: mxClient, want: careEdit(), req: func(w *mxWorld, _ apitest.User) mxReq {
			return mxReq{body: map[string]any{"title": "Find a home of my own"}, ifMatch: w.ifMatch("goals", w.params["goalId"])}
		}},
		"patchGoalStep": {as: mxClient, want: careEdit(), req: func(w *mxWorld, _ apitest.User) mxReq {
			return mxReq{body: map[string]any{"title": "Call the landlord"}, ifMatch: w.ifMatch("goal_steps", w.params["stepId"])}
		}},
		// Only the client decides about a proposal, and only the client deletes steps.
		"acceptGoal": {as: mxClient, want: mxWant{200, 404, 403, 404, 404, 404, 403}, setup: proposal, req: plain},
		"rejectGoal": {as: mxClient, want: mxWant{200, 404, 403, 404, 404, 404, 403}, setup: proposal,
			req: body(map[string]any{"reason": "Not now"})},
		"deleteGoalStep": {as: mxClient, want: mxWant{204, 404, 403, 404, 404, 404, 403},
			setup: func(_ *testing.T, w *mxWorld) map[string]string {
				return map[string]string{"stepId": w.created(w.people[mxClient], "/v1/goals/"+w.params["goalId"]+"/steps",
					map[string]any{"title": "A step to delete"})}
			}, req: func(*mxWorld, apitest.User) mxReq { return mxReq{ifMatch: `"1"`} }},
	}
}

func mxReferralOps() map[string]mxOp {
	return map[string]mxOp{
		"listReferrals": {as: mxClient, want: sharedRead(), sup: 200, req: plain},
		// pia, staff of the referral's organization, reads it as the client shares it, and may not change its note.
		"getReferral":    {as: mxClient, want: sharedRead(), sup: 200, prov: 200, req: plain},
		"createReferral": {as: mxClient, want: careWrite(), req: body(map[string]any{"service_id": svcShelter.String()})},
		"patchReferral": {as: mxClient, want: careEdit(), prov: 403, req: func(w *mxWorld, _ apitest.User) mxReq {
			return mxReq{body: map[string]any{"note": "Bring your ID"}, ifMatch: w.ifMatch("referrals", w.params["referralId"])}
		}},
	}
}

func mxMessageOps() map[string]mxOp {
	return map[string]mxOp{
		"listConversations": {as: mxClient, want: anyRole(), req: plain},
		// A client names themself (bob names alice: 422), a worker their caseload
		// (will has none: 422); admins and editors take part in no conversation.
		"createConversation": {as: mxClient, want: mxWant{201, 422, 201, 422, 403, 403, 403}, req: func(w *mxWorld, _ apitest.User) mxReq {
			return mxReq{body: map[string]any{"client_id": w.params["clientId"], "subject": "Rent"}}
		}},
		"listMessages": {as: mxClient, want: careRead(), req: plain},
		"postMessage":  {as: mxClient, want: careWrite(), req: body(map[string]any{"body": "See you Thursday"})},
		"markConversationRead": {as: mxClient, want: careEdit(), req: func(w *mxWorld, _ apitest.User) mxReq {
			return mxReq{body: map[string]any{"up_to": w.params["messageId"]}}
		}},
		// Only the client labels a conversation; the worker taking part is 403.
		"patchConversation": {as: mxClient, want: mxWant{200, 404, 403, 404, 404, 404, 403}, req: body(map[string]any{"sensitivity": nil})},
		// Everyone with a role may listen (and hears only what they may read).
		"streamEvents": {as: mxClient, want: anyRole(), req: plain},
	}
}

// mxConsentOps: the client decides who sees their sud records; a worker on
// the team reads their own consent and changes none.
func mxConsentOps() map[string]mxOp {
	wanda := func(w *mxWorld) string { return w.people[mxTeamWorker].PersonID.String() }
	return map[string]mxOp{
		"listConsents": {as: mxClient, want: careRead(), req: plain},
		// Wanda's consent is gone before each call, so giving it is 201.
		"putSudConsent": {as: mxClient, want: mxWant{201, 404, 403, 404, 404, 404, 403},
			setup: func(_ *testing.T, w *mxWorld) map[string]string {
				w.exec(`DELETE FROM sensitivity_consents WHERE person_id = ?`, wanda(w))
				return map[string]string{"personId": wanda(w)}
			}, req: plain},
		"deleteSudConsent": {as: mxClient, want: mxWant{204, 404, 403, 404, 404, 404, 403},
			setup: func(_ *testing.T, w *mxWorld) map[string]string {
				w.exec(`INSERT INTO sensitivity_consents (client_id, label, person_id) VALUES (?, 'sud', ?) ON CONFLICT DO NOTHING`,
					w.people[mxClient].ClientID, wanda(w))
				return map[string]string{"personId": wanda(w)}
			}, req: plain},
	}
}

func mxDirectoryOps() (ops map[string]mxOp) {
	dirWrite := func(status int) mxWant { return mxWant{403, 403, 403, 403, status, status, 403} }
	org := map[string]any{"name": "Fremont Food Bank", "description": "Groceries on Tuesdays"}
	loc := map[string]any{"location_type": "physical", "name": "Fremont Hall", "organization_id": orgNY.String()}
	svc := map[string]any{"organization_id": orgNY.String(), "name": "Fremont Evening Pantry", "status": "active", "description": "Groceries after work"}
	// fresh makes a new object of kind (as the admin) for a delete to remove.
	fresh := func(kind, param string, b any) func(*testing.T, *mxWorld) map[string]string {
		return func(_ *testing.T, w *mxWorld) map[string]string {
			return map[string]string{param: w.created(w.people[mxAdmin], "/v1/"+kind, b)}
		}
	}
	replace := func(table, param, id string, b any) func(*mxWorld, apitest.User) mxReq {
		return func(w *mxWorld, _ apitest.User) mxReq {
			return mxReq{params: map[string]string{param: id}, body: b, ifMatch: w.ifMatch(table, id)}
		}
	}
	v1 := func(*mxWorld, apitest.User) mxReq { return mxReq{ifMatch: `"1"`} }
	// Providers do not edit the directory (the editor's column says they may).
	defer func() {
		for id, o := range ops {
			if o.want == dirWrite(o.want[mxAdmin]) {
				o.prov = http.StatusForbidden
				ops[id] = o
			}
		}
	}()
	ops = map[string]mxOp{
		"searchServices":      {as: mxClient, want: everyone(), req: func(*mxWorld, apitest.User) mxReq { return mxReq{query: "search=pantry"} }},
		"getService":          {as: mxClient, want: everyone(), req: plain},
		"getOrganization":     {as: mxClient, want: everyone(), req: plain},
		"getLocation":         {as: mxClient, want: everyone(), req: plain},
		"listTaxonomyTerms":   {as: mxClient, want: everyone(), req: plain},
		"createOrganization":  {as: mxEditor, want: dirWrite(201), req: body(org)},
		"createLocation":      {as: mxEditor, want: dirWrite(201), req: body(loc)},
		"createService":       {as: mxEditor, want: dirWrite(201), req: body(svc)},
		"replaceOrganization": {as: mxEditor, want: dirWrite(200), req: replace("organizations", "organizationId", orgNY.String(), org)},
		"replaceLocation":     {as: mxEditor, want: dirWrite(200), req: replace("locations", "locationId", locBrooklyn.String(), loc)},
		"replaceService":      {as: mxEditor, want: dirWrite(200), req: replace("services", "serviceId", svcBrooklyn.String(), svc)},
		"deleteOrganization":  {as: mxEditor, want: dirWrite(204), setup: fresh("organizations", "organizationId", org), req: v1},
		"deleteLocation":      {as: mxEditor, want: dirWrite(204), setup: fresh("locations", "locationId", loc), req: v1},
		"deleteService":       {as: mxEditor, want: dirWrite(204), setup: fresh("services", "serviceId", svc), req: v1},
	}
	return ops
}

// mxProviderOps: administrators link staff to organizations; providers list
// the referrals to theirs (pia, staff of Seattle Neighbors, the world's).
func mxProviderOps() map[string]mxOp {
	adminOnly := func(status int) mxWant { return mxWant{403, 403, 403, 403, status, 403, 403} }
	staff := func(w *mxWorld) map[string]string {
		return map[string]string{"organizationId": orgNY.String(), "personId": w.walt.PersonID.String()}
	}
	return map[string]mxOp{
		// Walt is not Brooklyn Aid's staff before each call, so linking him is 201.
		"putOrganizationStaff": {as: mxAdmin, want: adminOnly(201), setup: func(_ *testing.T, w *mxWorld) map[string]string {
			w.exec(`DELETE FROM organization_staff WHERE person_id = ?`, w.walt.PersonID)
			return staff(w)
		}, req: plain},
		"deleteOrganizationStaff": {as: mxAdmin, want: adminOnly(204), setup: func(_ *testing.T, w *mxWorld) map[string]string {
			w.exec(`INSERT INTO organization_staff (organization_id, person_id, added_by) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`,
				orgNY, w.walt.PersonID, w.people[mxAdmin].PersonID)
			return staff(w)
		}, req: plain},
		"listProviderReferrals": {as: mxProvider, want: mxWant{403, 403, 403, 403, 403, 403, 403}, prov: 200, req: plain},
	}
}

// mxFeedbackOps: clients and workers report barriers on services; the
// queue is the directory's (administrators and directory editors), never
// the provider's, whose own organization's service it may well be about.
func mxFeedbackOps() map[string]mxOp {
	queue := func(status int) mxWant { return mxWant{403, 403, 403, 403, status, status, 403} }
	return map[string]mxOp{
		"createServiceFeedback": {as: mxClient, want: mxWant{201, 201, 201, 201, 403, 403, 403},
			req: body(map[string]any{"kind": "cost", "text": "The listing says free; they asked for $20"})},
		"listDirectoryFeedback": {as: mxEditor, want: queue(200), prov: 403, req: plain},
		"getDirectoryFeedback":  {as: mxEditor, want: queue(200), prov: 403, req: plain},
		"patchDirectoryFeedback": {as: mxEditor, want: queue(200), prov: 403, req: func(w *mxWorld, _ apitest.User) mxReq {
			return mxReq{body: map[string]any{"status": "resolved", "resolution_note": "Fees corrected"},
				ifMatch: w.ifMatch("service_feedback", w.params["feedbackId"])}
		}},
	}
}

func mxSupporterOps() map[string]mxOp {
	all := []string{"goals", "referrals", "saved_services", "assessments"}
	sam := func(w *mxWorld) string { return w.people[mxSupporter].PersonID.String() }
	invite := func(w *mxWorld, shares []string) map[string]any {
		return w.e.Do(http.MethodPost, "/v1/clients/"+w.params["clientId"]+"/supporter-invitations", w.people[mxClient].Token,
			map[string]any{"shares": shares}).Want(w.t, http.StatusCreated).Map(w.t)
	}
	// Only the client manages their circle: the care team and administrators
	// see the client record (403), everyone else does not (404).
	ownerOnly := func(ok int) mxWant { return mxWant{ok, 404, 403, 404, 403, 404, 403} }
	return map[string]mxOp{
		"createSupporterInvitation": {as: mxClient, want: ownerOnly(201), req: body(map[string]any{"shares": []string{"goals"}})},
		"listSupporterInvitations":  {as: mxClient, want: ownerOnly(200), req: plain},
		"cancelSupporterInvitation": {as: mxClient, want: ownerOnly(204), setup: func(_ *testing.T, w *mxWorld) map[string]string {
			return map[string]string{"invitationId": invite(w, []string{"goals"})["id"].(string)}
		}, req: plain},
		// A fresh code each call, granting only assessments (which nothing
		// reads yet), so a redemption changes what no other row sees. Alice
		// may not redeem her own (422), sam already supports her (409).
		"redeemSupporterInvitation": {as: mxOtherClient, want: mxWant{422, 201, 201, 201, 201, 201, 201}, sup: 409,
			setup: func(_ *testing.T, w *mxWorld) map[string]string {
				w.exec(`DELETE FROM supporters WHERE person_id <> ?`, w.people[mxSupporter].PersonID)
				w.code = invite(w, []string{"assessments"})["code"].(string)
				return nil
			}, req: func(w *mxWorld, _ apitest.User) mxReq { return mxReq{body: map[string]any{"code": w.code}} }},
		// A supporter sees only themself; the care team is refused the list.
		"listSupporters": {as: mxClient, want: mxWant{200, 404, 403, 404, 403, 404, 404}, sup: 200, req: plain},
		"getSupporter": {as: mxClient, want: mxWant{200, 404, 404, 404, 404, 404, 404}, sup: 200,
			req: func(w *mxWorld, _ apitest.User) mxReq { return mxReq{params: map[string]string{"personId": sam(w)}} }},
		"patchSupporter": {as: mxClient, want: mxWant{200, 404, 404, 404, 404, 404, 403}, req: func(w *mxWorld, _ apitest.User) mxReq {
			var v int64
			w.e.DB.Raw(`SELECT version FROM supporters WHERE person_id = ?`, w.people[mxSupporter].PersonID).Scan(&v)
			return mxReq{params: map[string]string{"personId": sam(w)}, body: map[string]any{"shares": all}, ifMatch: fmt.Sprintf(`"%d"`, v)}
		}},
		// Sue supports alice before each call; sam may leave, not remove her.
		"deleteSupporter": {as: mxClient, want: mxWant{204, 404, 403, 404, 403, 404, 404}, sup: 404,
			setup: func(_ *testing.T, w *mxWorld) map[string]string {
				w.exec(`INSERT INTO supporters (client_id, person_id, id, shares, invitation_id) VALUES (?, ?, ?, '{goals}', ?)
					ON CONFLICT DO NOTHING`, w.people[mxClient].ClientID, w.sue.PersonID, uuid.Must(uuid.NewV7()), uuid.Must(uuid.NewV7()))
				return map[string]string{"personId": w.sue.PersonID.String()}
			}, req: plain},
	}
}

// The access log is the client's, and administrators may audit it; the
// client's care team sees the client but not this (403). Apps are the
// client's decision alone. "old-budget-app" is an app that once acted on
// alice's data; each call starts from it allowed (revoke) or revoked (allow).
func mxPrivacyOps() map[string]mxOp {
	ownerOnly := mxWant{200, 404, 403, 404, 403, 404, 403}
	appState := func(revoked bool) func(*testing.T, *mxWorld) map[string]string {
		return func(_ *testing.T, w *mxWorld) map[string]string {
			w.exec(`INSERT INTO client_apps (client_id, app_id, scopes_used, revoked_at) VALUES (?, ?, '{goals:read}', CASE WHEN ? THEN now() END)
				ON CONFLICT (client_id, app_id) DO UPDATE SET revoked_at = EXCLUDED.revoked_at`, w.people[mxClient].ClientID, mxOldApp, revoked)
			return nil
		}
	}
	return map[string]mxOp{
		"listAccessLog":   {as: mxClient, want: mxWant{200, 404, 403, 404, 200, 404, 403}, req: plain},
		"listClientApps":  {as: mxClient, want: ownerOnly, req: plain},
		"allowClientApp":  {as: mxClient, want: ownerOnly, setup: appState(true), req: plain},
		"revokeClientApp": {as: mxClient, want: mxWant{204, 404, 403, 404, 403, 404, 403}, setup: appState(false), req: plain},
		// The client's own data to take: nobody else's, not even the care team's
		// (the supporter, holding no role, gets the role-less 403).
		"exportClientData": {as: mxClient, want: mxWant{200, 404, 404, 404, 404, 404, 403}, req: plain},
	}
}

// mxOldApp is the app the privacy rows allow and revoke.
const mxOldApp = "old-budget-app"

// mxAssessmentOps: a client's self-assessments are the client's and their
// care team's (a worker starts drafts, only the client confirms);
// supporters sharing assessments read the confirmed ones; the domains'
// texts are for anyone signed in. Fresh drafts and assessments per call
// keep each write's effect to itself.
func mxAssessmentOps() map[string]mxOp {
	fresh := func(status string) func(*testing.T, *mxWorld) map[string]string {
		return func(_ *testing.T, w *mxWorld) map[string]string {
			return map[string]string{"assessmentId": w.created(w.people[mxClient], "/v1/clients/"+w.params["clientId"]+"/assessments",
				map[string]any{"status": status, "ratings": []any{map[string]any{"domain": "housing", "rating": 2, "priority": true}}})}
		}
	}
	ratings := map[string]any{"ratings": []any{map[string]any{"domain": "food", "rating": 4}}}
	return map[string]mxOp{
		"listAssessmentDomains":     {as: mxClient, want: everyone(), req: plain},
		"listAssessments":           {as: mxClient, want: sharedRead(), sup: 200, req: plain},
		"getAssessment":             {as: mxClient, want: sharedRead(), sup: 200, req: plain},
		"getAssessmentSummary":      {as: mxClient, want: sharedRead(), sup: 200, req: plain},
		"listAssessmentSuggestions": {as: mxClient, want: careRead(), req: plain},
		"createAssessment":          {as: mxClient, want: careWrite(), req: body(ratings)},
		"patchAssessment": {as: mxClient, want: careEdit(), setup: fresh("draft"),
			req: func(*mxWorld, apitest.User) mxReq { return mxReq{body: ratings, ifMatch: `"1"`} }},
		// Only the client confirms; the care team sees the draft (403).
		"confirmAssessment": {as: mxClient, want: mxWant{200, 404, 403, 404, 404, 404, 403}, setup: fresh("draft"), req: plain},
		"adoptGoalTemplate": {as: mxClient, want: careWrite(), setup: fresh("confirmed"),
			req: body(map[string]any{"template_id": "find-stable-housing"})},
	}
}

// mxFollowUpOps: the agenda is everyone's with a role (each sees their own
// items, or their caseload's); push subscriptions are a client's own.
func mxFollowUpOps() map[string]mxOp {
	k, auth := pushKeys(nil)
	sub := subscriptionBody("https://push.example.org/send/mx", k, auth)
	clientsOnly := func(ok int) mxWant { return mxWant{ok, ok, 403, 403, 403, 403, 403} }
	return map[string]mxOp{
		"getAgenda":             {as: mxClient, want: anyRole(), req: plain},
		"listPushSubscriptions": {as: mxClient, want: clientsOnly(200), req: plain},
		// No subscription before each call, so subscribing is 201.
		"createPushSubscription": {as: mxClient, want: clientsOnly(201), setup: func(_ *testing.T, w *mxWorld) map[string]string {
			w.exec(`DELETE FROM push_subscriptions`)
			return nil
		}, req: body(sub)},
		// Alice's subscription before each call: bob's is another client's (404).
		"deletePushSubscription": {as: mxClient, want: mxWant{204, 404, 403, 403, 403, 403, 403}, setup: func(_ *testing.T, w *mxWorld) map[string]string {
			id := uuid.Must(uuid.NewV7())
			w.exec(`INSERT INTO push_subscriptions (client_id, id, endpoint, p256dh, auth) VALUES (?, ?, 'https://push.example.org/mx', ?, ?)
				ON CONFLICT (client_id, endpoint) DO UPDATE SET id = EXCLUDED.id`, w.people[mxClient].ClientID, id, k.PublicKey().Bytes(), auth)
			return map[string]string{"subscriptionId": id.String()}
		}, req: plain},
	}
}

// mxInsightOps: the anonymised community insights, for admins, workers and
// organizers; no client's record is involved, so the others are 403.
func mxInsightOps() map[string]mxOp {
	readers := mxWant{403, 403, 200, 200, 200, 403, 403}
	return map[string]mxOp{
		"getUnmetNeedInsights":    {as: mxAdmin, want: readers, org: 200, req: plain},
		"getDirectoryGapInsights": {as: mxAdmin, want: readers, org: 200, req: plain},
	}
}
