package domain

import (
	"github.com/google/uuid"

	"github.com/waypoint-portal/waypoint/domain/hsds"
)

// HSDS requires an id on every object; API callers may leave sub-object ids
// out and get fresh ones.
func fillID(id *uuid.UUID) {
	if *id == uuid.Nil {
		*id = newID()
	}
}

func fillPhones(ps []hsds.Phone) {
	for i := range ps {
		fillID(&ps[i].ID)
		for j := range ps[i].Languages {
			fillID(&ps[i].Languages[j].ID)
		}
	}
}

func fillContacts(cs []hsds.Contact) {
	for i := range cs {
		fillID(&cs[i].ID)
		fillPhones(cs[i].Phones)
	}
}

func fillSchedules(ss []hsds.Schedule) {
	for i := range ss {
		fillID(&ss[i].ID)
	}
}

func fillServiceIDs(s *hsds.Service) {
	fillPhones(s.Phones)
	fillContacts(s.Contacts)
	fillSchedules(s.Schedules)
	for i := range s.Languages {
		fillID(&s.Languages[i].ID)
	}
	for i := range s.CostOptions {
		fillID(&s.CostOptions[i].ID)
	}
	for i := range s.Attributes {
		fillID(&s.Attributes[i].ID)
	}
	for i := range s.ServiceAreas {
		fillID(&s.ServiceAreas[i].ID)
	}
	for i := range s.RequiredDocuments {
		fillID(&s.RequiredDocuments[i].ID)
	}
	for i := range s.Funding {
		fillID(&s.Funding[i].ID)
	}
	for i := range s.ServiceAtLocations {
		sal := &s.ServiceAtLocations[i]
		fillID(&sal.ID)
		fillPhones(sal.Phones)
		fillContacts(sal.Contacts)
		fillSchedules(sal.Schedules)
	}
}

func fillLocationIDs(l *hsds.Location) {
	fillPhones(l.Phones)
	fillContacts(l.Contacts)
	fillSchedules(l.Schedules)
	for i := range l.Languages {
		fillID(&l.Languages[i].ID)
	}
	for i := range l.Addresses {
		fillID(&l.Addresses[i].ID)
	}
	for i := range l.Accessibility {
		fillID(&l.Accessibility[i].ID)
	}
}

func fillOrganizationIDs(o *hsds.Organization) {
	fillPhones(o.Phones)
	fillContacts(o.Contacts)
	for i := range o.Funding {
		fillID(&o.Funding[i].ID)
	}
	for i := range o.Programs {
		fillID(&o.Programs[i].ID)
	}
	for i := range o.OrganizationIdentifiers {
		fillID(&o.OrganizationIdentifiers[i].ID)
	}
}
