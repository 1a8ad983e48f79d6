package emulator

import "strings"

// User is a portal user. The API token of Options.Token belongs to the first user of Users(),
// an administrator unless Options.NotAdmin; of the others only Viktor Petrov (two-factor
// authentication on) is one.
type User struct {
	ID        string // dashed lower-case GUID
	UserName  string
	FirstName string
	LastName  string
	Email     string
	Title     string
	Password  string // for POST api/2.0/authentication and Basic auth
	TwoFactor bool   // two-factor authentication on: no token is ever issued to this user
	IsAdmin   bool   // a portal administrator: sees every deal, may create custom fields
}

// DisplayName is the name as the portal composes it, before HTML encoding.
func (u User) DisplayName() string { return strings.TrimSpace(u.FirstName + " " + u.LastName) }

// Contact is a CRM contact: a person or a company.
type Contact struct {
	ID          int
	IsCompany   bool
	FirstName   string // persons
	LastName    string // persons
	CompanyName string // companies
	CompanyID   int    // persons: the company they work for, 0 = none
	Email       string
	IsPrivate   bool
	AccessList  []string // user ids allowed to see a private contact
}

// DisplayName is the contact's title: "First Last" for a person, the name of a company.
func (c Contact) DisplayName() string {
	if c.IsCompany {
		return c.CompanyName
	}
	return strings.TrimSpace(c.FirstName + " " + c.LastName)
}

// Stage is a deal milestone. StageType: 0 open, 1 won, 2 lost.
type Stage struct {
	ID                 int
	Title              string
	Description        string
	Color              string
	SuccessProbability int
	StageType          int
	SortOrder          int
}

// Currency is one entry of the portal's currency list.
type Currency struct {
	Abbreviation  string
	Title         string
	Symbol        string
	CultureName   string
	IsConvertable bool
	IsBasic       bool
}

// CustomField is an opportunity custom field definition. FieldType: 0 text, 1 textarea,
// 2 select (options in Mask, a JSON string), 3 checkbox, 4 heading, 5 date.
type CustomField struct {
	ID        int
	Label     string
	FieldType int
	Position  int
	Mask      string
}

// lostUserID is the "removed profile" the portal shows in place of an unknown user.
const (
	lostUserID   = "4a515a15-d4d6-4b8e-828e-e0586f18f3a3"
	lostUserName = "Profile has been removed"
)

func seedUsers() []User {
	return []User{
		{ID: "3f2b8c1e-6d4a-4e7b-9a15-2c8d7e6f5a41", UserName: "anna.berg", FirstName: "Anna", LastName: "Berg",
			Email: "anna.berg@example.com", Title: "Sales manager", Password: "anna-secret-1", IsAdmin: true},
		{ID: "8a1d4e7b-2c3f-4a5b-8c9d-0e1f2a3b4c5d", UserName: "maria.obrien", FirstName: "Maria", LastName: "O'Brien",
			Email: "maria.obrien@example.com", Title: "Account executive", Password: "maria-secret-2"},
		{ID: "b5c6d7e8-f9a0-4b1c-8d2e-3f4a5b6c7d8e", UserName: "john.smith", FirstName: "John", LastName: "Smith",
			Email: "john.smith@example.com", Title: "Sales representative", Password: "john-secret-3"},
		{ID: "c1d2e3f4-a5b6-4c7d-9e8f-0a1b2c3d4e5f", UserName: "jsmith", FirstName: "John", LastName: "Smith",
			Email: "j.smith@example.org", Title: "Field sales", Password: "john-secret-4"},
		{ID: "d4e5f6a7-b8c9-4d0e-8f1a-2b3c4d5e6f7a", UserName: "zoe.dubois", FirstName: "Zoë", LastName: "Dubois",
			Email: "zoe.dubois@example.com", Title: "Partner manager", Password: "zoe-secret-5"},
		{ID: "e7f8a9b0-c1d2-4e3f-9a4b-5c6d7e8f9a0b", UserName: "viktor.petrov", FirstName: "Viktor", LastName: "Petrov",
			Email: "viktor.petrov@example.com", Title: "Head of sales", Password: "viktor-secret-6", TwoFactor: true, IsAdmin: true},
	}
}

func seedContacts() []Contact {
	return []Contact{
		{ID: 1, IsCompany: true, CompanyName: "Acme Corporation", Email: "info@acme.example"},
		{ID: 2, IsCompany: true, CompanyName: "Globex Ltd", Email: "office@globex.example"},
		{ID: 3, IsCompany: true, CompanyName: "Initech", Email: "contact@initech.example"},
		{ID: 4, FirstName: "Peter", LastName: "Gibbons", CompanyID: 3, Email: "peter.gibbons@initech.example"},
		{ID: 5, FirstName: "Samir", LastName: "Nagheenanajar", CompanyID: 3, Email: "samir@initech.example"},
		{ID: 6, FirstName: "Jane", LastName: "Doe", CompanyID: 1, Email: "jane.doe@acme.example"},
		{ID: 7, FirstName: "Jane", LastName: "Doe", CompanyID: 2, Email: "jdoe@globex.example"},
		{ID: 8, FirstName: "Hans", LastName: "Müller", Email: "hans.mueller@example.de"},
		{ID: 9, FirstName: "María", LastName: "González", Email: "maria.gonzalez@example.es"},
		{ID: 10, IsCompany: true, CompanyName: "Secret Holdings", Email: "board@secret.example",
			IsPrivate: true, AccessList: []string{"e7f8a9b0-c1d2-4e3f-9a4b-5c6d7e8f9a0b"}},
	}
}

func seedStages() []Stage {
	return []Stage{
		{ID: 1, Title: "Initial contact", Color: "#e795c1", SuccessProbability: 1, SortOrder: 1},
		{ID: 2, Title: "Application of initial fit criteria", Color: "#df7895", SuccessProbability: 2, SortOrder: 2},
		{ID: 3, Title: "Suspect", Color: "#f48454", SuccessProbability: 3, SortOrder: 3},
		{ID: 4, Title: "Need assessment", Color: "#ffb45e", SuccessProbability: 20, SortOrder: 4},
		{ID: 5, Title: "Qualified prospect", Color: "#ffd267", SuccessProbability: 50, SortOrder: 5},
		{ID: 6, Title: "Proposal", Color: "#b7d7c2", SuccessProbability: 75, SortOrder: 6},
		{ID: 7, Title: "Negotiations", Color: "#6bbd72", SuccessProbability: 90, SortOrder: 7},
		{ID: 8, Title: "Closure/Transaction", Color: "#3d9b46", SuccessProbability: 100, StageType: 1, SortOrder: 8},
		{ID: 9, Title: "Unsuccessfully closed", Color: "#a1a1a1", SuccessProbability: 0, StageType: 2, SortOrder: 9},
	}
}

func seedCustomFields() []CustomField {
	return []CustomField{
		{ID: 11, Label: "Region", FieldType: 0, Position: 1, Mask: `{"size":"40"}`},
		{ID: 12, Label: "Lead source", FieldType: 2, Position: 2, Mask: `["Web","Referral","Trade show","Cold call"]`},
		{ID: 13, Label: "Strategic", FieldType: 3, Position: 3},
		{ID: 14, Label: "Renewal date", FieldType: 5, Position: 4},
		{ID: 15, Label: "Notes", FieldType: 1, Position: 5, Mask: `{"rows":"2","cols":"40"}`},
		{ID: 16, Label: "Contract details", FieldType: 4, Position: 6},
	}
}

// seedCurrencies is the portal's currency list: 74 entries, sorted by abbreviation.
func seedCurrencies() []Currency {
	rows := []struct{ abbr, title, symbol, culture string }{
		{"AED", "UAE Dirham", "د.إ", "AE"}, {"ALL", "Albanian Lek", "L", "AL"},
		{"AMD", "Armenian Dram", "֏", "AM"}, {"ARS", "Argentine Peso", "$", "AR"},
		{"AUD", "Australian Dollar", "$", "AU"}, {"AZN", "Azerbaijani Manat", "₼", "AZ"},
		{"BAM", "Bosnia-Herzegovina Convertible Mark", "KM", "BA"}, {"BDT", "Bangladeshi Taka", "৳", "BD"},
		{"BGN", "Bulgarian Lev", "лв", "BG"}, {"BHD", "Bahraini Dinar", ".د.ب", "BH"},
		{"BOB", "Bolivian Boliviano", "Bs", "BO"}, {"BRL", "Brazilian Real", "R$", "BR"},
		{"BYN", "Belarusian Ruble", "Br", "BY"}, {"CAD", "Canadian Dollar", "$", "CA"},
		{"CHF", "Swiss Franc", "Fr", "CH"}, {"CLP", "Chilean Peso", "$", "CL"},
		{"CNY", "Chinese Yuan", "¥", "CN"}, {"COP", "Colombian Peso", "$", "CO"},
		{"CRC", "Costa Rican Colón", "₡", "CR"}, {"CZK", "Czech Koruna", "Kč", "CZ"},
		{"DKK", "Danish Krone", "kr", "DK"}, {"DOP", "Dominican Peso", "RD$", "DO"},
		{"DZD", "Algerian Dinar", "دج", "DZ"}, {"EGP", "Egyptian Pound", "£", "EG"},
		{"EUR", "Euro", "€", "EU"}, {"GBP", "British Pound", "£", "GB"},
		{"GEL", "Georgian Lari", "₾", "GE"}, {"GHS", "Ghanaian Cedi", "₵", "GH"},
		{"HKD", "Hong Kong Dollar", "$", "HK"}, {"HRK", "Croatian Kuna", "kn", "HR"},
		{"HUF", "Hungarian Forint", "Ft", "HU"}, {"IDR", "Indonesian Rupiah", "Rp", "ID"},
		{"ILS", "Israeli New Shekel", "₪", "IL"}, {"INR", "Indian Rupee", "₹", "IN"},
		{"ISK", "Icelandic Króna", "kr", "IS"}, {"JOD", "Jordanian Dinar", "د.ا", "JO"},
		{"JPY", "Japanese Yen", "¥", "JP"}, {"KES", "Kenyan Shilling", "KSh", "KE"},
		{"KGS", "Kyrgystani Som", "с", "KG"}, {"KRW", "South Korean Won", "₩", "KR"},
		{"KWD", "Kuwaiti Dinar", "د.ك", "KW"}, {"KZT", "Kazakhstani Tenge", "₸", "KZ"},
		{"LBP", "Lebanese Pound", "ل.ل", "LB"}, {"LKR", "Sri Lankan Rupee", "Rs", "LK"},
		{"MAD", "Moroccan Dirham", "د.م.", "MA"}, {"MDL", "Moldovan Leu", "L", "MD"},
		{"MKD", "Macedonian Denar", "ден", "MK"}, {"MNT", "Mongolian Tugrik", "₮", "MN"},
		{"MXN", "Mexican Peso", "$", "MX"}, {"MYR", "Malaysian Ringgit", "RM", "MY"},
		{"NGN", "Nigerian Naira", "₦", "NG"}, {"NOK", "Norwegian Krone", "kr", "NO"},
		{"NZD", "New Zealand Dollar", "$", "NZ"}, {"OMR", "Omani Rial", "ر.ع.", "OM"},
		{"PEN", "Peruvian Sol", "S/", "PE"}, {"PHP", "Philippine Peso", "₱", "PH"},
		{"PKR", "Pakistani Rupee", "Rs", "PK"}, {"PLN", "Polish Zloty", "zł", "PL"},
		{"QAR", "Qatari Riyal", "ر.ق", "QA"}, {"RON", "Romanian Leu", "lei", "RO"},
		{"RSD", "Serbian Dinar", "дин", "RS"}, {"RUB", "Russian Ruble", "₽", "RU"},
		{"SAR", "Saudi Riyal", "ر.س", "SA"}, {"SEK", "Swedish Krona", "kr", "SE"},
		{"SGD", "Singapore Dollar", "$", "SG"}, {"THB", "Thai Baht", "฿", "TH"},
		{"TND", "Tunisian Dinar", "د.ت", "TN"}, {"TRY", "Turkish Lira", "₺", "TR"},
		{"TWD", "New Taiwan Dollar", "NT$", "TW"}, {"UAH", "Ukrainian Hryvnia", "₴", "UA"},
		{"USD", "US Dollar", "$", "US"}, {"UZS", "Uzbekistani Som", "soʻm", "UZ"},
		{"VND", "Vietnamese Dong", "₫", "VN"}, {"ZAR", "South African Rand", "R", "ZA"},
	}
	basic := map[string]bool{"AUD": true, "CAD": true, "CHF": true, "EUR": true, "GBP": true, "JPY": true, "USD": true}
	out := make([]Currency, len(rows))
	for i, r := range rows {
		out[i] = Currency{Abbreviation: r.abbr, Title: r.title, Symbol: r.symbol, CultureName: r.culture,
			IsConvertable: true, IsBasic: basic[r.abbr]}
	}
	return out
}
