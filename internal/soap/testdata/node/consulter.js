// Calls the connector's SOAP service with node-soap (npm "soap"), an
// independent client, built from the WSDL the service serves.
//
//   node consulter.js ENDPOINT_URL CASES.json
//
// CASES.json is a list of {name, saisie} as in testdata/cases.json. Every case
// is sent; an absent field travels as node-soap's callers send it: left out,
// null (xsi:nil="true") or '' (an empty element), in turn. A case
// {name, lot: {anneeUniversitaire, identifiant: [...]}} is sent as one
// consulterBoursiers. Prints one JSON list: {name, result} for an answer
// (the response's reponse), {name, lot: {reponses}} for a batch's,
// {name, fault} for a fault.
'use strict';

const fs = require('fs');
const soap = require('soap');

const FIELDS = ['identifiant', 'anneeUniversitaire', 'codeEtablissement', 'nom', 'prenom', 'dateNaissance'];
const ANSWER = ['identifiant', 'anneeUniversitaire', 'statut', 'typeDecision', 'echelon', 'numeroDossier',
  'correspondance', 'identifiantAglae', 'anomalie'];

function answer(result) {
  const out = {};
  for (const f of ANSWER) {
    if (result && result[f] !== undefined && result[f] !== null) {
      out[f] = f === 'anneeUniversitaire' ? Number(result[f]) : String(result[f]);
    }
  }
  return out;
}

// lotAnswer is a batch's answer: node-soap reads a single reponse as an
// object, several as a list.
function lotAnswer(result) {
  const items = result && result.reponse !== undefined ? [].concat(result.reponse) : [];
  return {
    reponses: items.map((item) => (item && item.erreur
      ? { identifiant: item.identifiant, erreur: { code: item.erreur.code, message: item.erreur.message } }
      : answer(item))),
  };
}

function fault(err) {
  const f = err && err.root && err.root.Envelope && err.root.Envelope.Body && err.root.Envelope.Body.Fault;
  if (!f) {
    return { error: String(err && err.message || err) };
  }
  const detail = (f.detail && f.detail.connecteurFault) || {};
  return {
    status: err.response && err.response.status,
    faultcode: f.faultcode,
    faultstring: f.faultstring,
    code: detail.code,
    message: detail.message,
  };
}

async function main() {
  const [url, casesPath] = process.argv.slice(2);
  if (!url || !casesPath) {
    throw new Error('usage: node consulter.js ENDPOINT_URL CASES.json');
  }
  const cases = JSON.parse(fs.readFileSync(casesPath, 'utf8'));
  const client = await soap.createClientAsync(url + '?wsdl');
  const results = [];
  for (const [i, c] of cases.entries()) {
    if (c.lot) {
      try {
        const [result] = await client.consulterBoursiersAsync(c.lot);
        results.push({ name: c.name, lot: lotAnswer(result) });
      } catch (err) {
        results.push({ name: c.name, fault: fault(err) });
      }
      continue;
    }
    const absent = [undefined, null, ''][i % 3];
    const args = {};
    for (const f of FIELDS) {
      const v = c.saisie[f];
      if (v !== undefined && v !== null && v !== '') {
        args[f] = v;
      } else if (absent !== undefined) {
        args[f] = absent;
      }
    }
    try {
      const [result] = await client.consulterBoursierAsync(args);
      results.push({ name: c.name, result: answer(result && result.reponse) });
    } catch (err) {
      results.push({ name: c.name, fault: fault(err) });
    }
  }
  process.stdout.write(JSON.stringify(results) + '\n');
}

main().catch((err) => {
  process.stderr.write(String(err && err.stack || err) + '\n');
  process.exit(1);
});
