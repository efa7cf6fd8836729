package demo

import (
	"fmt"

	"github.com/aglae-connector/aglae-connector/internal/ident"
)

// This file holds the fixed vocabulary of the demo: names, académies,
// establishments, programmes, missing documents and the barème. Everything is
// a slice, never a map, so that every draw is reproducible.

// noms are the family names drawn for ordinary students, upper-case as Aglaé
// stores them, with accents, hyphens, apostrophes and particles on purpose.
// Most special students of specials.go have names in neither list; in any
// case the generator never gives an ordinary student a special student's
// exact identity.
var noms = []string{
	"MARTIN", "BERNARD", "DUBOIS", "THOMAS", "ROBERT", "RICHARD", "PETIT",
	"DURAND", "LEROY", "MOREAU", "SIMON", "LAURENT", "LEFÈVRE", "MICHEL",
	"GARCIA", "DAVID", "BERTRAND", "ROUX", "VINCENT", "FOURNIER", "MOREL",
	"GIRARD", "ANDRÉ", "MERCIER", "DUPONT", "LAMBERT", "BONNET", "FRANÇOIS",
	"MARTINEZ", "LEGRAND", "GARNIER", "FAURE", "ROUSSEAU", "BLANC", "GUÉRIN",
	"MULLER", "HENRY", "PERRIN", "MORIN", "MATHIEU", "CLÉMENT", "GAUTHIER",
	"N'DIAYE", "LE GOFF", "LE GALL", "NGUYEN", "TRAORÉ", "HADDAD",
	"D'ALMEIDA", "SAINT-MARTIN", "COULIBALY", "BENOÎT", "CHEVALIER",
	"DA SILVA", "BEN AMOR",
}

// prenoms are the first names drawn for ordinary students.
var prenoms = []string{
	"Emma", "Léa", "Chloé", "Manon", "Inès", "Camille", "Sarah", "Jade",
	"Louise", "Zoé", "Lucie", "Juliette", "Élodie", "Anaïs", "Mathilde",
	"Clémence", "Océane", "Maëlys", "Yasmine", "Fatoumata", "Marie-Claire",
	"Anne-Sophie", "Adèle", "Hugo", "Lucas", "Louis", "Nathan", "Gabriel",
	"Théo", "Jules", "Arthur", "Raphaël", "Mathis", "Enzo", "Thomas",
	"Maxime", "Antoine", "Alexandre", "Quentin", "Clément", "Baptiste",
	"Jean-Pierre", "Jean-Baptiste", "Pierre-Louis", "Mohamed", "Karim",
	"Mamadou", "Noé", "Loïc", "Gaëtan",
}

// Kinds of establishment: each offers its own programmes.
const (
	kSciences = iota // university faculty of sciences
	kDroit           // law, economics, management
	kLettres         // humanities and social sciences
	kSante           // health studies (PASS, L.AS)
	kUniv            // multidisciplinary university
	kIUT             // institut universitaire de technologie (BUT)
	kCPGE            // lycée, classes préparatoires
	kBTS             // lycée, sections de techniciens supérieurs
	nKinds
)

// formations lists the programmes offered by each kind of establishment.
var formations = [nKinds][]string{
	kSciences: {
		"Licence 1 Mathématiques", "Licence 1 Informatique",
		"Licence 2 Physique-Chimie", "Licence 3 Sciences de la vie",
		"Licence 1 Sciences de la Terre", "Master 1 Informatique",
		"Master 2 Biologie-Santé",
	},
	kDroit: {
		"Licence 1 Droit", "Licence 2 Droit", "Licence 3 Droit public",
		"Licence 1 Économie-Gestion", "Licence 2 Administration économique et sociale",
		"Master 1 Droit des affaires", "Master 2 Management public",
	},
	kLettres: {
		"Licence 1 Lettres modernes", "Licence 1 Psychologie", "Licence 2 Histoire",
		"Licence 1 Langues étrangères appliquées anglais-espagnol",
		"Licence 3 Sociologie", "Licence 2 Sciences de l'éducation",
		"Master 1 Métiers de l'enseignement (MEEF)",
	},
	kSante: {
		"Diplômes de santé, 1re année", "Parcours d'accès spécifique santé (PASS)",
		"Licence accès santé (L.AS), 1re année", "Diplôme de formation générale en sciences médicales, 2e année",
		"Diplôme d'État de docteur en pharmacie, 3e année",
	},
	kUniv: {
		"Licence 1 Droit", "Licence 1 Psychologie", "Licence 1 Mathématiques",
		"Licence 2 Économie-Gestion", "Licence 1 Sciences et techniques des activités physiques et sportives",
		"Licence 3 Géographie et aménagement", "Licence 1 Langues, littératures et civilisations étrangères (anglais)",
		"Master 1 Chimie",
	},
	kIUT: {
		"BUT Informatique, 1re année", "BUT Génie électrique et informatique industrielle, 1re année",
		"BUT Techniques de commercialisation, 2e année",
		"BUT Gestion des entreprises et des administrations, 1re année",
		"BUT Carrières sociales, 3e année", "BUT Génie biologique, 2e année",
	},
	kCPGE: {
		"CPGE MPSI, 1re année", "CPGE PCSI, 1re année", "CPGE Lettres (hypokhâgne)",
		"CPGE ECG, 2e année", "CPGE MP, 2e année",
	},
	kBTS: {
		"BTS Management commercial opérationnel, 1re année", "BTS Comptabilité et gestion, 1re année",
		"BTS Services informatiques aux organisations, 2e année",
		"BTS Négociation et digitalisation de la relation client, 1re année",
		"BTS Économie sociale familiale, 2e année",
	},
}

// etablissement is an establishment of an académie. uai7 are the seven digits
// of its UAI code; the key letter is computed by ident.UAIKey when the
// package starts. Apart from a few real codes (0341088Y, 0781944P, 0751717J),
// the digits are made up on the department prefix of the town: they are
// well-formed UAI codes, not necessarily those of the real establishments.
type etablissement struct {
	uai7 string
	nom  string
	kind int
	uai  string // uai7 + key, filled by init
}

// academie is a 3-letter académie code as Aglaé writes it in dossier numbers,
// its weight in the draw (roughly its student population) and its
// establishments.
type academie struct {
	code    string
	weights int
	etabs   []etablissement
}

var academies = []academie{
	{"PAR", 14, []etablissement{
		{uai7: "0751717", nom: "Université Paris 1 Panthéon-Sorbonne", kind: kUniv},
		{uai7: "0755890", nom: "Sorbonne Université, Faculté des Lettres", kind: kLettres},
		{uai7: "0755976", nom: "Université Paris Cité, UFR de Médecine", kind: kSante},
		{uai7: "0750655", nom: "Lycée Louis-le-Grand", kind: kCPGE},
		{uai7: "0754445", nom: "IUT de Paris - Rives de Seine", kind: kIUT},
	}},
	{"VER", 10, []etablissement{
		{uai7: "0781944", nom: "Université de Versailles Saint-Quentin-en-Yvelines", kind: kUniv},
		{uai7: "0781973", nom: "IUT de Vélizy-Rambouillet", kind: kIUT},
		{uai7: "0912408", nom: "Université Paris-Saclay, Faculté des Sciences d'Orsay", kind: kSciences},
		{uai7: "0921204", nom: "Université Paris Nanterre, UFR Droit et Science politique", kind: kDroit},
		{uai7: "0780582", nom: "Lycée Hoche", kind: kCPGE},
	}},
	{"CRE", 9, []etablissement{
		{uai7: "0941111", nom: "Université Paris-Est Créteil, Faculté de Droit", kind: kDroit},
		{uai7: "0931238", nom: "Université Sorbonne Paris Nord, IUT de Saint-Denis", kind: kIUT},
		{uai7: "0932075", nom: "Université Paris 8 Vincennes-Saint-Denis", kind: kLettres},
		{uai7: "0930136", nom: "Lycée Jean-Jaurès de Montreuil", kind: kBTS},
	}},
	{"MON", 5, []etablissement{
		{uai7: "0341088", nom: "UM1 UFR Médecine", kind: kSante},
		{uai7: "0342321", nom: "Université de Montpellier, Faculté des Sciences", kind: kSciences},
		{uai7: "0340088", nom: "Université Paul-Valéry Montpellier 3", kind: kLettres},
		{uai7: "0301687", nom: "IUT de Nîmes", kind: kIUT},
		{uai7: "0660437", nom: "Université de Perpignan Via Domitia", kind: kUniv},
	}},
	{"LYO", 8, []etablissement{
		{uai7: "0691774", nom: "Université Claude Bernard Lyon 1", kind: kSciences},
		{uai7: "0691775", nom: "Université Lumière Lyon 2", kind: kLettres},
		{uai7: "0692437", nom: "Université Jean Moulin Lyon 3, Faculté de Droit", kind: kDroit},
		{uai7: "0692566", nom: "IUT Lyon 1, site de Villeurbanne Doua", kind: kIUT},
		{uai7: "0421095", nom: "Université Jean Monnet Saint-Étienne", kind: kUniv},
	}},
	{"AIX", 7, []etablissement{
		{uai7: "0134009", nom: "Aix-Marseille Université, Faculté des Sciences", kind: kSciences},
		{uai7: "0132364", nom: "Aix-Marseille Université, Faculté de Droit et de Science politique", kind: kDroit},
		{uai7: "0133774", nom: "IUT d'Aix-Marseille", kind: kIUT},
		{uai7: "0840685", nom: "Avignon Université", kind: kUniv},
		{uai7: "0130040", nom: "Lycée Thiers", kind: kCPGE},
	}},
	{"TOU", 6, []etablissement{
		{uai7: "0311382", nom: "Université Toulouse Capitole", kind: kDroit},
		{uai7: "0311384", nom: "Université Toulouse III - Paul Sabatier", kind: kSciences},
		{uai7: "0311383", nom: "Université Toulouse - Jean Jaurès", kind: kLettres},
		{uai7: "0310036", nom: "Lycée Pierre-de-Fermat", kind: kCPGE},
	}},
	{"BOR", 6, []etablissement{
		{uai7: "0333298", nom: "Université de Bordeaux, Collège Sciences et technologies", kind: kSciences},
		{uai7: "0331766", nom: "Université Bordeaux Montaigne", kind: kLettres},
		{uai7: "0331841", nom: "IUT de Bordeaux", kind: kIUT},
		{uai7: "0640251", nom: "Université de Pau et des Pays de l'Adour", kind: kUniv},
	}},
	{"LIL", 8, []etablissement{
		{uai7: "0597239", nom: "Université de Lille, Faculté des Sciences et technologies", kind: kSciences},
		{uai7: "0597065", nom: "Université de Lille, Faculté de Droit", kind: kDroit},
		{uai7: "0623957", nom: "Université d'Artois", kind: kUniv},
		{uai7: "0596123", nom: "IUT de Lille", kind: kIUT},
		{uai7: "0590117", nom: "Lycée Faidherbe", kind: kBTS},
	}},
	{"REN", 5, []etablissement{
		{uai7: "0352480", nom: "Université de Rennes, UFR Sciences et propriétés de la matière", kind: kSciences},
		{uai7: "0350937", nom: "Université Rennes 2", kind: kLettres},
		{uai7: "0290346", nom: "Université de Bretagne Occidentale", kind: kUniv},
		{uai7: "0221137", nom: "IUT de Lannion", kind: kIUT},
	}},
	{"NAN", 5, []etablissement{
		{uai7: "0440984", nom: "Nantes Université, UFR Sciences et techniques", kind: kSciences},
		{uai7: "0490970", nom: "Université d'Angers", kind: kUniv},
		{uai7: "0720916", nom: "Le Mans Université", kind: kUniv},
		{uai7: "0441731", nom: "IUT de Saint-Nazaire", kind: kIUT},
	}},
	{"STR", 4, []etablissement{
		{uai7: "0673021", nom: "Université de Strasbourg, Faculté de Droit", kind: kDroit},
		{uai7: "0673022", nom: "Université de Strasbourg, UFR de Mathématique et d'Informatique", kind: kSciences},
		{uai7: "0681166", nom: "Université de Haute-Alsace", kind: kUniv},
		{uai7: "0670082", nom: "Lycée Kléber", kind: kCPGE},
	}},
	{"GRE", 5, []etablissement{
		{uai7: "0383546", nom: "Université Grenoble Alpes, UFR IM2AG", kind: kSciences},
		{uai7: "0383547", nom: "Université Grenoble Alpes, Faculté de Droit", kind: kDroit},
		{uai7: "0730858", nom: "Université Savoie Mont Blanc", kind: kUniv},
		{uai7: "0381912", nom: "IUT 1 de Grenoble", kind: kIUT},
	}},
	{"NCE", 4, []etablissement{
		{uai7: "0062205", nom: "Université Côte d'Azur, Faculté des Sciences", kind: kSciences},
		{uai7: "0062206", nom: "Université Côte d'Azur, Faculté de Droit et Science politique", kind: kDroit},
		{uai7: "0830766", nom: "Université de Toulon", kind: kUniv},
	}},
	{"DIJ", 2, []etablissement{
		{uai7: "0211237", nom: "Université de Bourgogne, UFR Sciences et techniques", kind: kSciences},
		{uai7: "0211238", nom: "Université de Bourgogne, UFR Droit et Science politique", kind: kDroit},
	}},
	{"CLE", 2, []etablissement{
		{uai7: "0632084", nom: "Université Clermont Auvergne", kind: kUniv},
		{uai7: "0631833", nom: "IUT Clermont Auvergne", kind: kIUT},
	}},
	{"NCY", 4, []etablissement{
		{uai7: "0542493", nom: "Université de Lorraine, Faculté de Droit de Nancy", kind: kDroit},
		{uai7: "0572790", nom: "Université de Lorraine, UFR Mathématiques, informatique, mécanique de Metz", kind: kSciences},
		{uai7: "0540041", nom: "Lycée Henri-Poincaré", kind: kCPGE},
	}},
	{"ORL", 3, []etablissement{
		{uai7: "0450855", nom: "Université d'Orléans", kind: kUniv},
		{uai7: "0370800", nom: "Université de Tours, Faculté de Médecine", kind: kSante},
	}},
	{"POI", 2, []etablissement{
		{uai7: "0860856", nom: "Université de Poitiers", kind: kUniv},
		{uai7: "0170468", nom: "La Rochelle Université", kind: kUniv},
	}},
	{"CAE", 2, []etablissement{
		{uai7: "0141408", nom: "Université de Caen Normandie", kind: kUniv},
		{uai7: "0141719", nom: "IUT Grand Ouest Normandie", kind: kIUT},
	}},
	{"ROU", 2, []etablissement{
		{uai7: "0761904", nom: "Université de Rouen Normandie", kind: kUniv},
		{uai7: "0761850", nom: "Université Le Havre Normandie", kind: kUniv},
	}},
	{"AMI", 2, []etablissement{
		{uai7: "0801344", nom: "Université de Picardie Jules Verne", kind: kUniv},
	}},
	{"REI", 2, []etablissement{
		{uai7: "0511296", nom: "Université de Reims Champagne-Ardenne", kind: kUniv},
	}},
	{"BES", 2, []etablissement{
		{uai7: "0251215", nom: "Université de Franche-Comté", kind: kUniv},
	}},
	{"LIM", 1, []etablissement{
		{uai7: "0870669", nom: "Université de Limoges", kind: kUniv},
	}},
	{"COR", 1, []etablissement{
		{uai7: "7200470", nom: "Università di Corsica Pasquale Paoli", kind: kUniv}, // Haute-Corse: 720
	}},
}

func init() {
	for i := range academies {
		for j := range academies[i].etabs {
			e := &academies[i].etabs[j]
			if _, err := ident.ParseUAI(e.uai7 + string(ident.UAIKey(e.uai7))); err != nil {
				panic(fmt.Sprintf("demo: UAI %s: %v", e.uai7, err))
			}
			e.uai = e.uai7 + string(ident.UAIKey(e.uai7))
		}
	}
	academieWeights = make([]int, len(academies))
	for i, a := range academies {
		academieWeights[i] = a.weights
	}
}

// academieWeights are the académies' weights, in the order of academies.
var academieWeights []int

// academieIndex returns the position of code in academies, or -1.
func academieIndex(code string) int {
	for i, a := range academies {
		if a.code == code {
			return i
		}
	}
	return -1
}

// etablissementByUAI finds an establishment by its UAI code.
func etablissementByUAI(uai string) (acad int, etab etablissement) {
	for i, a := range academies {
		for _, e := range a.etabs {
			if e.uai == uai {
				return i, e
			}
		}
	}
	panic("demo: unknown UAI " + uai)
}

// pieces are the documents a CROUS asks for when a dossier is incomplete.
// The two fiscal notices are per year and built by piece().
var pieces = [...]string{
	"", // avis fiscal des parents, see piece
	"", // avis fiscal de l'étudiant, see piece
	"Certificat de scolarité",
	"RIB",
	"Copie de la pièce d'identité",
	"Justificatif de domicile des parents",
	"Attestation de paiement de la CAF",
	"Jugement de divorce ou de séparation",
	"Attestation de pension alimentaire",
	"Relevé de notes du baccalauréat",
	"Titre de séjour en cours de validité",
	"Attestation de reconnaissance de handicap",
}

// piecesWeights favours the fiscal notice, the certificate and the RIB.
var piecesWeights = []int{30, 6, 18, 16, 8, 6, 5, 4, 3, 2, 1, 1}

// piece returns document i for a dossier of year annee. The fiscal notice of
// a DSE filed in annee is the one received in annee-1 (revenues of annee-2).
func piece(i, annee int) string {
	switch i {
	case 0:
		return "Avis fiscal " + itoa4(annee-1) + " des parents"
	case 1:
		return "Avis fiscal " + itoa4(annee-1) + " de l'étudiant"
	}
	return pieces[i]
}

// echelons are the scholarship levels, lowest first, and echelonWeights their
// weights: more students at the low levels, as in the national figures.
var (
	echelons       = []string{"0bis", "1", "2", "3", "4", "5", "6", "7"}
	echelonWeights = []int{24, 16, 12, 11, 10, 10, 9, 8}
)

// Annual amounts (€) by échelon, SPEC §8.
var (
	montants2015 = [8]float64{1008, 1667, 2510, 3215, 3920, 4500, 4773, 5545}
	montants2023 = [8]float64{1454, 2163, 3071, 3828, 4587, 5212, 5506, 6335}
)

// montant returns the annual amount of échelon e for a dossier of year annee:
// the 2023–2024 barème from 2023 on, the 2015–2016 one before.
func montant(e, annee int) float64 {
	if annee >= 2023 {
		return montants2023[e]
	}
	return montants2015[e]
}
