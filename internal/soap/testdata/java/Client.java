// Calls the connector's SOAP service through the JAX-WS stubs that
// wsimport generated from the served WSDL (package fr.aglae.connecteur),
// as a university's Java chain would.
//
//   java Client ENDPOINT_URL USER PASSWORD CALLS.tsv
//
// CALLS.tsv has one call a line, tab-separated, an empty field being absent:
//   consulter    NAME identifiant anneeUniversitaire codeEtablissement nom prenom dateNaissance
//   lot          NAME anneeUniversitaire codeEtablissement identifiant,identifiant,...
//   unauthorized NAME identifiant   (a consulterBoursier with a wrong password)
// Prints one JSON object a line: {name, result} for an answer, {name, lot:
// {reponses}} for a batch's, {name, fault: {faultstring, code, message}} for
// a ConnecteurFault_Exception, {name, error} for any other exception.

import fr.aglae.connecteur.*;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import javax.xml.datatype.DatatypeFactory;
import javax.xml.datatype.XMLGregorianCalendar;
import javax.xml.ws.BindingProvider;

public class Client {
    public static void main(String[] args) throws Exception {
        ConnecteurService service = new ConnecteurService();
        ConnecteurPortType port = port(service, args[0], args[1], args[2]);
        ConnecteurPortType wrong = port(service, args[0], args[1], args[2] + "x");
        DatatypeFactory dates = DatatypeFactory.newInstance();
        for (String line : Files.readAllLines(Paths.get(args[3]), StandardCharsets.UTF_8)) {
            if (line.isEmpty()) {
                continue;
            }
            String[] f = line.split("\t", -1);
            StringBuilder out = new StringBuilder("{\"name\":").append(quote(f[1])).append(',');
            try {
                switch (f[0]) {
                case "consulter": {
                    XMLGregorianCalendar date = opt(f[7]) == null ? null : dates.newXMLGregorianCalendar(f[7]);
                    ReponseBoursier r = port.consulterBoursier(opt(f[2]), integer(f[3]), opt(f[4]), opt(f[5]), opt(f[6]), date);
                    out.append("\"result\":").append(json(r));
                    break;
                }
                case "lot": {
                    List<String> ids = new ArrayList<>(Arrays.asList(f[4].split(",", -1)));
                    List<ReponseBoursier> rs = port.consulterBoursiers(integer(f[2]), opt(f[3]), ids);
                    out.append("\"lot\":{\"reponses\":[");
                    for (int i = 0; i < rs.size(); i++) {
                        out.append(i > 0 ? "," : "").append(json(rs.get(i)));
                    }
                    out.append("]}");
                    break;
                }
                case "unauthorized":
                    wrong.consulterBoursier(f[2], null, null, null, null, null);
                    out.append("\"result\":{}");
                    break;
                default:
                    throw new IllegalArgumentException("unknown call " + f[0]);
                }
            } catch (ConnecteurFault_Exception e) {
                out.append("\"fault\":{\"faultstring\":").append(quote(e.getMessage()))
                    .append(",\"code\":").append(quote(e.getFaultInfo().getCode()))
                    .append(",\"message\":").append(quote(e.getFaultInfo().getMessage())).append('}');
            } catch (RuntimeException e) {
                out.append("\"error\":").append(quote(e.getClass().getName() + ": " + e.getMessage()));
            }
            System.out.println(out.append('}'));
        }
    }

    static ConnecteurPortType port(ConnecteurService service, String url, String user, String password) {
        ConnecteurPortType port = service.getConnecteurPort();
        BindingProvider bp = (BindingProvider) port;
        bp.getRequestContext().put(BindingProvider.ENDPOINT_ADDRESS_PROPERTY, url);
        bp.getRequestContext().put(BindingProvider.USERNAME_PROPERTY, user);
        bp.getRequestContext().put(BindingProvider.PASSWORD_PROPERTY, password);
        return port;
    }

    static String opt(String s) {
        return s.isEmpty() ? null : s;
    }

    static Integer integer(String s) {
        return s.isEmpty() ? null : Integer.valueOf(s);
    }

    // json writes a reponse as cases.json's answers are written: the
    // fields present, an erreur as {code, message}.
    static String json(ReponseBoursier r) {
        StringBuilder b = new StringBuilder("{");
        field(b, "identifiant", r.getIdentifiant());
        if (r.getAnneeUniversitaire() != null) {
            b.append(b.length() > 1 ? "," : "").append("\"anneeUniversitaire\":").append(r.getAnneeUniversitaire());
        }
        field(b, "statut", r.getStatut() == null ? null : r.getStatut().value());
        field(b, "typeDecision", r.getTypeDecision() == null ? null : r.getTypeDecision().value());
        field(b, "echelon", r.getEchelon());
        field(b, "numeroDossier", r.getNumeroDossier());
        field(b, "correspondance", r.getCorrespondance() == null ? null : r.getCorrespondance().value());
        field(b, "identifiantAglae", r.getIdentifiantAglae());
        field(b, "anomalie", r.getAnomalie() == null ? null : r.getAnomalie().value());
        if (r.getErreur() != null) {
            b.append(b.length() > 1 ? "," : "").append("\"erreur\":{\"code\":").append(quote(r.getErreur().getCode()))
                .append(",\"message\":").append(quote(r.getErreur().getMessage())).append('}');
        }
        return b.append('}').toString();
    }

    static void field(StringBuilder b, String name, String value) {
        if (value != null) {
            b.append(b.length() > 1 ? "," : "").append(quote(name)).append(':').append(quote(value));
        }
    }

    static String quote(String s) {
        if (s == null) {
            return "null";
        }
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') {
                b.append('\\').append(c);
            } else if (c < 0x20) {
                b.append(String.format("\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        return b.append('"').toString();
    }
}
