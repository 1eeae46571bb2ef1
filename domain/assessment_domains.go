package domain

import (
	"strconv"
	"strings"
)

// The life domains of a self-assessment, fixed and documented: each is
// rated 1 (in crisis) to 5 (thriving) on a self-sufficiency scale, with a
// plain-language anchor per level. Labels, anchors and goal templates are
// served in the languages of AssessmentLanguages, so a front end never
// hard-codes them.

// Assessment domain codes.
const (
	DomainHousing             = "housing"
	DomainFood                = "food"
	DomainIncome              = "income"
	DomainEmployment          = "employment"
	DomainEducation           = "education"
	DomainPhysicalHealth      = "physical_health"
	DomainMentalHealth        = "mental_health"
	DomainSubstanceUse        = "substance_use"
	DomainFamilyRelationships = "family_relationships"
	DomainSafety              = "safety"
	DomainLegal               = "legal"
	DomainTransportation      = "transportation"
	DomainChildcare           = "childcare"
	DomainCommunityBelonging  = "community_belonging"
)

// AssessmentDomains lists the domains in the order they are shown.
func AssessmentDomains() []string {
	return []string{DomainHousing, DomainFood, DomainIncome, DomainEmployment, DomainEducation, DomainPhysicalHealth,
		DomainMentalHealth, DomainSubstanceUse, DomainFamilyRelationships, DomainSafety, DomainLegal,
		DomainTransportation, DomainChildcare, DomainCommunityBelonging}
}

// DomainSensitivity is the sensitivity label a domain's ratings carry
// (nil for none): substance use is sud, gated like sud goals (RatingScope).
func DomainSensitivity(domain string) *string {
	if domain == DomainSubstanceUse {
		return ptrTo(SensitivitySUD)
	}
	return nil
}

// Languages the assessment texts are written in; the first is the default.
const (
	LangEnglish = "en"
	LangSpanish = "es"
)

// AssessmentLanguages lists the languages of the domain texts, default first.
func AssessmentLanguages() []string { return []string{LangEnglish, LangSpanish} }

// Assessment ratings: 1 in crisis ... 5 thriving.
const (
	MinAssessmentRating = 1
	MaxAssessmentRating = 5
)

// DomainText is a domain in one language: its label and one anchor per
// rating (Anchors[0] describes 1, Anchors[4] describes 5).
type DomainText struct {
	Domain  string
	Label   string
	Anchors [MaxAssessmentRating]string
}

// AssessmentDomainTexts returns every domain's label and anchors in lang
// (one of AssessmentLanguages; anything else is English).
func AssessmentDomainTexts(lang string) []DomainText {
	if lang == LangSpanish {
		return spanishDomainTexts()
	}
	return englishDomainTexts()
}

// AssessmentDomainText is one domain's text in lang.
func AssessmentDomainText(lang, domain string) DomainText {
	for _, t := range AssessmentDomainTexts(lang) {
		if t.Domain == domain {
			return t
		}
	}
	return DomainText{Domain: domain, Label: domain}
}

func englishDomainTexts() []DomainText {
	return []DomainText{
		{DomainHousing, "Housing", [5]string{
			"I have no safe place to stay tonight, or I am about to lose my home.",
			"I stay somewhere temporary or unsafe (shelter, a friend's couch, overcrowded).",
			"I have housing, but it is hard to afford or keep, or needs serious repairs.",
			"My housing is safe and mostly affordable; small worries now and then.",
			"My home is safe, affordable and mine to keep as long as I want.",
		}},
		{DomainFood, "Food", [5]string{
			"I or my family often go without food.",
			"We skip meals or depend on emergency food most weeks.",
			"We have enough food most of the time, with help such as SNAP or pantries.",
			"We have enough food; sometimes the choices are limited.",
			"We always have enough healthy food we choose ourselves.",
		}},
		{DomainIncome, "Income", [5]string{
			"I have no income at all.",
			"My income does not cover basic needs like rent and food.",
			"My income covers basic needs only just, often with benefits.",
			"My income covers my needs, with a little left over.",
			"My income covers my needs and I can save for the future.",
		}},
		{DomainEmployment, "Employment", [5]string{
			"I have no work and no way to look for it right now.",
			"I am looking for work, or I do occasional, unreliable work.",
			"I have work, but it is temporary, part-time or not enough.",
			"I have steady work that mostly meets my needs.",
			"I have steady work I like, with a future.",
		}},
		{DomainEducation, "Education", [5]string{
			"Reading, writing or language makes daily life very hard for me.",
			"I need more education or training to reach my goals, and I cannot start yet.",
			"I am working on more education or training.",
			"I have the education or training I need for now.",
			"I have the education I want and keep learning.",
		}},
		{DomainPhysicalHealth, "Physical health", [5]string{
			"I have an urgent health problem and no care for it.",
			"My health often stops me from doing daily things; care is hard to get.",
			"I have health problems, and I get some care for them.",
			"My health is mostly good, and I can see a doctor when I need to.",
			"I feel healthy and take care of my health the way I want.",
		}},
		{DomainMentalHealth, "Mental health", [5]string{
			"I am in danger of hurting myself or others, or cannot cope at all.",
			"I struggle most days with stress, worry or sadness, without support.",
			"I struggle sometimes, and I have some support.",
			"I mostly feel well and know where to get support.",
			"I feel well and cope with what life brings.",
		}},
		{DomainSubstanceUse, "Substance use", [5]string{
			"Alcohol or drugs put my life, home or safety at risk right now.",
			"Alcohol or drugs cause serious problems in my daily life.",
			"Alcohol or drugs cause some problems; I am working on it.",
			"I am in recovery or my use causes no problems.",
			"Alcohol or drugs are not a problem in my life.",
		}},
		{DomainFamilyRelationships, "Family and relationships", [5]string{
			"My relationships are in crisis or I have no one.",
			"My relationships cause me a lot of stress and little support.",
			"I have some people I can count on, and some conflict.",
			"I have people I can count on most of the time.",
			"I have close, supportive relationships.",
		}},
		{DomainSafety, "Safety", [5]string{
			"I am not safe where I live or with someone in my life right now.",
			"I often feel unsafe and have no plan to stay safe.",
			"I sometimes feel unsafe, and I have a plan to stay safe.",
			"I feel safe most of the time.",
			"I feel safe at home and in my community.",
		}},
		{DomainLegal, "Legal", [5]string{
			"I face a legal problem now (arrest, eviction, deportation) with no help.",
			"I have a serious legal problem and not enough help.",
			"I have a legal matter and I am getting help with it.",
			"My legal matters are mostly settled.",
			"I have no legal problems.",
		}},
		{DomainTransportation, "Transportation", [5]string{
			"I have no way to get where I need to go.",
			"Getting around is so hard that I miss important things.",
			"I can get around, but it is difficult or costly.",
			"I can usually get where I need to go.",
			"I can always get where I need to go.",
		}},
		{DomainChildcare, "Childcare", [5]string{
			"I have no safe care for my children when I need it.",
			"Childcare is unreliable, and it stops me from working or going to appointments.",
			"I have childcare, but it is hard to afford or keep.",
			"I have reliable childcare most of the time.",
			"I have reliable, affordable childcare I trust (or I do not need it).",
		}},
		{DomainCommunityBelonging, "Community and belonging", [5]string{
			"I feel completely alone and cut off.",
			"I rarely feel part of anything around me.",
			"I feel part of a community sometimes.",
			"I feel I belong, and I take part in things I care about.",
			"I feel I belong and I help others belong too.",
		}},
	}
}

func spanishDomainTexts() []DomainText {
	return []DomainText{
		{DomainHousing, "Vivienda", [5]string{
			"No tengo un lugar seguro donde dormir esta noche, o estoy a punto de perder mi casa.",
			"Me quedo en un lugar temporal o inseguro (refugio, el sofá de un amigo, hacinamiento).",
			"Tengo vivienda, pero me cuesta pagarla o mantenerla, o necesita reparaciones serias.",
			"Mi vivienda es segura y casi siempre puedo pagarla; a veces tengo pequeñas preocupaciones.",
			"Mi hogar es seguro, puedo pagarlo y puedo quedarme todo el tiempo que quiera.",
		}},
		{DomainFood, "Alimentación", [5]string{
			"Yo o mi familia a menudo pasamos sin comer.",
			"Nos saltamos comidas o dependemos de ayuda alimentaria de emergencia casi todas las semanas.",
			"Casi siempre tenemos suficiente comida, con ayuda como SNAP o bancos de alimentos.",
			"Tenemos suficiente comida; a veces las opciones son limitadas.",
			"Siempre tenemos suficiente comida sana que elegimos nosotros.",
		}},
		{DomainIncome, "Ingresos", [5]string{
			"No tengo ningún ingreso.",
			"Mis ingresos no cubren lo básico, como el alquiler y la comida.",
			"Mis ingresos apenas cubren lo básico, a menudo con ayudas públicas.",
			"Mis ingresos cubren mis necesidades y me sobra un poco.",
			"Mis ingresos cubren mis necesidades y puedo ahorrar para el futuro.",
		}},
		{DomainEmployment, "Empleo", [5]string{
			"No tengo trabajo y ahora no puedo buscarlo.",
			"Estoy buscando trabajo, o hago trabajos ocasionales e inestables.",
			"Tengo trabajo, pero es temporal, de medio tiempo o no es suficiente.",
			"Tengo un trabajo estable que cubre casi todas mis necesidades.",
			"Tengo un trabajo estable que me gusta y con futuro.",
		}},
		{DomainEducation, "Educación", [5]string{
			"Leer, escribir o el idioma me hacen muy difícil la vida diaria.",
			"Necesito más estudios o formación para lograr mis metas, y todavía no puedo empezar.",
			"Estoy estudiando o formándome.",
			"Tengo los estudios o la formación que necesito por ahora.",
			"Tengo los estudios que quiero y sigo aprendiendo.",
		}},
		{DomainPhysicalHealth, "Salud física", [5]string{
			"Tengo un problema de salud urgente y nadie me atiende.",
			"Mi salud a menudo me impide hacer las cosas diarias; me cuesta recibir atención.",
			"Tengo problemas de salud y recibo algo de atención.",
			"Mi salud es buena casi siempre y puedo ver a un médico cuando lo necesito.",
			"Me siento sano y cuido mi salud como quiero.",
		}},
		{DomainMentalHealth, "Salud mental", [5]string{
			"Corro el riesgo de hacerme daño o de hacer daño a otros, o no puedo más.",
			"Casi todos los días lucho con el estrés, la preocupación o la tristeza, sin apoyo.",
			"A veces me cuesta, y tengo algo de apoyo.",
			"Casi siempre me siento bien y sé dónde buscar apoyo.",
			"Me siento bien y puedo con lo que trae la vida.",
		}},
		{DomainSubstanceUse, "Consumo de sustancias", [5]string{
			"El alcohol o las drogas ponen en riesgo mi vida, mi hogar o mi seguridad ahora mismo.",
			"El alcohol o las drogas causan problemas serios en mi vida diaria.",
			"El alcohol o las drogas causan algunos problemas; estoy trabajando en ello.",
			"Estoy en recuperación o mi consumo no me causa problemas.",
			"El alcohol y las drogas no son un problema en mi vida.",
		}},
		{DomainFamilyRelationships, "Familia y relaciones", [5]string{
			"Mis relaciones están en crisis o no tengo a nadie.",
			"Mis relaciones me causan mucho estrés y poco apoyo.",
			"Tengo algunas personas con quienes contar, y algunos conflictos.",
			"Tengo personas con quienes contar casi siempre.",
			"Tengo relaciones cercanas que me apoyan.",
		}},
		{DomainSafety, "Seguridad", [5]string{
			"No estoy seguro donde vivo o con alguien de mi vida ahora mismo.",
			"A menudo me siento inseguro y no tengo un plan para protegerme.",
			"A veces me siento inseguro, y tengo un plan para protegerme.",
			"Me siento seguro casi siempre.",
			"Me siento seguro en casa y en mi comunidad.",
		}},
		{DomainLegal, "Asuntos legales", [5]string{
			"Tengo un problema legal ahora (arresto, desalojo, deportación) y nadie me ayuda.",
			"Tengo un problema legal serio y no suficiente ayuda.",
			"Tengo un asunto legal y recibo ayuda con él.",
			"Mis asuntos legales están casi resueltos.",
			"No tengo problemas legales.",
		}},
		{DomainTransportation, "Transporte", [5]string{
			"No tengo forma de llegar a donde necesito ir.",
			"Moverme es tan difícil que falto a cosas importantes.",
			"Puedo moverme, pero es difícil o caro.",
			"Casi siempre puedo llegar a donde necesito ir.",
			"Siempre puedo llegar a donde necesito ir.",
		}},
		{DomainChildcare, "Cuidado infantil", [5]string{
			"No tengo quien cuide a mis hijos de forma segura cuando lo necesito.",
			"El cuidado infantil no es fiable y me impide trabajar o ir a citas.",
			"Tengo cuidado infantil, pero me cuesta pagarlo o mantenerlo.",
			"Tengo cuidado infantil fiable casi siempre.",
			"Tengo cuidado infantil fiable, asequible y de confianza (o no lo necesito).",
		}},
		{DomainCommunityBelonging, "Comunidad y pertenencia", [5]string{
			"Me siento completamente solo y aislado.",
			"Casi nunca me siento parte de algo a mi alrededor.",
			"A veces me siento parte de una comunidad.",
			"Siento que pertenezco y participo en cosas que me importan.",
			"Siento que pertenezco y ayudo a que otros también pertenezcan.",
		}},
	}
}

// GoalTemplate is a goal a client may adopt from an assessment's
// suggestions: its title in each language, and the goal category the
// adopted goal gets.
type GoalTemplate struct {
	ID       string
	Domain   string
	Category string
	// Titles by language (AssessmentLanguages).
	Titles map[string]string
}

// Title is the template's title in lang (English when not written in lang).
func (t GoalTemplate) Title(lang string) string {
	if s, ok := t.Titles[lang]; ok {
		return s
	}
	return t.Titles[LangEnglish]
}

func tpl(id, domain, category, en, es string) GoalTemplate {
	return GoalTemplate{ID: id, Domain: domain, Category: category, Titles: map[string]string{LangEnglish: en, LangSpanish: es}}
}

// GoalTemplates lists the goal templates, by domain in AssessmentDomains
// order. The adopted goal's category is the goal category closest to the
// domain (GoalCategories has fewer, broader areas).
func GoalTemplates() []GoalTemplate {
	return []GoalTemplate{
		tpl("find-stable-housing", DomainHousing, "housing", "Find stable housing", "Encontrar una vivienda estable"),
		tpl("keep-my-home", DomainHousing, "housing", "Keep my home", "Conservar mi hogar"),
		tpl("enough-food", DomainFood, "food", "Have enough food every week", "Tener suficiente comida cada semana"),
		tpl("apply-for-benefits", DomainIncome, "income", "Apply for the benefits I qualify for", "Solicitar las ayudas a las que tengo derecho"),
		tpl("make-a-budget", DomainIncome, "income", "Make a budget that works for me", "Hacer un presupuesto que me funcione"),
		tpl("find-a-job", DomainEmployment, "employment", "Find a job", "Encontrar un trabajo"),
		tpl("start-training", DomainEducation, "education", "Start a class or training", "Empezar un curso o una formación"),
		tpl("see-a-doctor", DomainPhysicalHealth, "health", "See a doctor for my health", "Ver a un médico por mi salud"),
		tpl("find-counseling", DomainMentalHealth, "wellbeing", "Find someone to talk to", "Encontrar a alguien con quien hablar"),
		tpl("explore-recovery-support", DomainSubstanceUse, "health", "Explore recovery support", "Explorar apoyo para la recuperación"),
		tpl("strengthen-relationships", DomainFamilyRelationships, "family", "Strengthen a relationship that matters to me", "Fortalecer una relación importante para mí"),
		tpl("make-a-safety-plan", DomainSafety, "safety", "Make a safety plan", "Hacer un plan de seguridad"),
		tpl("get-legal-help", DomainLegal, "legal", "Get legal help", "Conseguir ayuda legal"),
		tpl("reliable-transportation", DomainTransportation, "other", "Have a reliable way to get around", "Tener una forma fiable de moverme"),
		tpl("find-childcare", DomainChildcare, "family", "Find reliable childcare", "Encontrar cuidado infantil fiable"),
		tpl("join-a-group", DomainCommunityBelonging, "wellbeing", "Join a group or activity I enjoy", "Unirme a un grupo o actividad que me guste"),
	}
}

// GoalTemplateIDs lists the template ids.
func GoalTemplateIDs() []string {
	var out []string
	for _, t := range GoalTemplates() {
		out = append(out, t.ID)
	}
	return out
}

// goalTemplate finds a template by id.
func goalTemplate(id string) (GoalTemplate, bool) {
	for _, t := range GoalTemplates() {
		if t.ID == id {
			return t, true
		}
	}
	return GoalTemplate{}, false
}

// DomainTaxonomyCodes maps a domain to the directory taxonomy codes (AIRS /
// 211 LA style, as the demo directory files them) whose services help with
// it, broadest first. A suggestion searches the terms the directory has.
func DomainTaxonomyCodes(domain string) []string {
	switch domain {
	case DomainHousing:
		return []string{"BH", "BH-3800.7000", "BH-1800.8500"}
	case DomainFood:
		return []string{"BD", "BD-1800.2000", "BD-5000.8300"}
	case DomainIncome:
		return []string{"NL-6000", "DT-8800"}
	case DomainEmployment:
		return []string{"ND-6500"}
	case DomainEducation:
		return []string{"H"}
	case DomainPhysicalHealth:
		return []string{"LN-1500.1500", "LV-1600"}
	case DomainMentalHealth:
		return []string{"RP-1400"}
	case DomainSubstanceUse:
		return []string{"RX-8450"}
	case DomainFamilyRelationships:
		return []string{"PH-2360"}
	case DomainSafety:
		return []string{"BH-1800.1500"}
	case DomainLegal:
		return []string{"FT", "FT-3200", "FT-3600.3300"}
	case DomainTransportation:
		return []string{"BT"}
	case DomainChildcare:
		return []string{"PH-1250"}
	case DomainCommunityBelonging:
		return []string{"PS"}
	}
	return nil
}

// NegotiateLanguage picks the language of AssessmentLanguages an
// Accept-Language header (RFC 9110 section 12.5.4) prefers: the highest
// q-value whose language (the primary subtag) is one of them; English when
// none is, or when the header is absent.
func NegotiateLanguage(header string) string {
	best, bestQ := LangEnglish, -1.0
	for _, part := range strings.Split(header, ",") {
		fields := strings.Split(strings.TrimSpace(part), ";")
		tag := strings.ToLower(strings.TrimSpace(fields[0]))
		q := 1.0
		for _, p := range fields[1:] {
			p = strings.TrimSpace(p)
			if v, ok := strings.CutPrefix(p, "q="); ok {
				f, err := strconv.ParseFloat(v, 64)
				if err != nil || f < 0 || f > 1 {
					f = 0
				}
				q = f
			}
		}
		if q <= 0 {
			continue
		}
		primary, _, _ := strings.Cut(tag, "-")
		for _, l := range AssessmentLanguages() {
			if (primary == l || tag == "*") && q > bestQ {
				best, bestQ = l, q
				if tag == "*" {
					best = LangEnglish
				}
			}
		}
	}
	return best
}
