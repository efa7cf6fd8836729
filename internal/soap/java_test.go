package soap_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// jaxwsRuntime is the JAX-WS RI runtime of Debian's libjaxws-java; its
// manifest names the jars it needs.
const jaxwsRuntime = "/usr/share/java/jaxws-rt.jar"

// TestJavaClient does what a university's Java developer does with the
// README: Debian's JDK and JAX-WS RI (installed when missing), the README's
// own wsimport command on the WSDL the service serves, which must give
// neither error nor warning and the wrapper-style signatures (return
// values, no Holder, no customization); then the client of testdata/java,
// compiled against the generated stubs, calls both operations with HTTP
// Basic credentials: every case of testdata/cases.json, a batch with an
// invalid identifier, the typed fault and a wrong password (401). The
// README's example (testdata/java/Exemple.java) runs too.
func TestJavaClient(t *testing.T) {
	t.Parallel()
	start := time.Now()
	ensureDebianPackages(t, lookPaths("wsimport", "javac", "java"), "openjdk-17-jdk-headless", "jaxws", "libjaxws-java")
	s := startService(t)
	dir := t.TempDir()

	// The README's command, with this service's URL.
	out := runCombined(t, dir, "wsimport", "-keep", "-p", "fr.aglae.connecteur", s.url+"?wsdl")
	t.Logf("wsimport -keep -p fr.aglae.connecteur %s?wsdl:\n%s", s.url, out)
	for _, line := range strings.Split(out, "\n") {
		assert.NotRegexp(t, `\[(ERROR|WARNING)\]`, line)
	}
	port, err := os.ReadFile(filepath.Join(dir, "fr", "aglae", "connecteur", "ConnecteurPortType.java"))
	require.NoError(t, err)
	signatures := regexp.MustCompile(`\s+`).ReplaceAllString(string(port), " ")
	assert.Contains(t, signatures, "public ReponseBoursier consulterBoursier( @WebParam(name = \"identifiant\", targetNamespace = \"urn:aglae-connector:connecteur:1\") String identifiant, @WebParam(name = \"anneeUniversitaire\", targetNamespace = \"urn:aglae-connector:connecteur:1\") Integer anneeUniversitaire,")
	assert.Contains(t, signatures, "public List<ReponseBoursier> consulterBoursiers( @WebParam(name = \"anneeUniversitaire\", targetNamespace = \"urn:aglae-connector:connecteur:1\") Integer anneeUniversitaire,")
	assert.NotContains(t, signatures, "Holder")

	// One javac for both programs.
	src := repo("internal", "soap", "testdata", "java")
	cp := dir + string(os.PathListSeparator) + jaxwsRuntime
	runCombined(t, dir, "javac", "-cp", cp, "-d", dir, filepath.Join(src, "Client.java"), filepath.Join(src, "Exemple.java"))

	calls := writeCalls(t)
	checkClientResults(t, runClient(t, dir, "java", "-cp", cp, "Client", s.url, s.id, s.secret, calls), false)

	got := runClient(t, dir, "java", "-cp", cp, "Exemple", s.url, s.id, s.secret)
	assert.Equal(t, "BOURSIER 1\n", string(got))

	// The README shows this example, this command and these signatures.
	readme, err := os.ReadFile(repo("README.md"))
	require.NoError(t, err)
	example, err := os.ReadFile(filepath.Join(src, "Exemple.java"))
	require.NoError(t, err)
	assert.Contains(t, string(readme), "```java\n"+string(example)+"```\n")
	assert.Contains(t, string(readme), "`wsimport -keep -p fr.aglae.connecteur http://127.0.0.1:8080/ws/connecteur?wsdl`")
	assert.Contains(t, string(readme), "ReponseBoursier consulterBoursier(String identifiant, Integer anneeUniversitaire, String codeEtablissement,")
	assert.Contains(t, string(readme), "List<ReponseBoursier> consulterBoursiers(Integer anneeUniversitaire, String codeEtablissement,")
	t.Logf("Java client test, tools included: %s", time.Since(start).Round(time.Second))
}
