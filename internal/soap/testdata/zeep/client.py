"""Calls the connector's SOAP service with zeep, an independent client built
from the WSDL the service serves.

    python3 client.py ENDPOINT_URL USER PASSWORD CALLS.tsv

CALLS.tsv has one call a line, tab-separated, an empty field being absent:
  consulter    NAME identifiant anneeUniversitaire codeEtablissement nom prenom dateNaissance
  lot          NAME anneeUniversitaire codeEtablissement identifiant,identifiant,...
  unauthorized NAME identifiant   (a consulterBoursier with a wrong password)
Prints one JSON object a line: {name, result} for an answer, {name, lot:
{reponses}} for a batch's, {name, fault: {faultstring, code, message}} for a
soap:Fault (with the HTTP status it came with), {name, error} for any other exception.
"""

import datetime
import json
import sys

import requests
import zeep
import zeep.exceptions
from zeep.transports import Transport

FIELDS = ['identifiant', 'anneeUniversitaire', 'statut', 'typeDecision', 'echelon', 'numeroDossier',
          'correspondance', 'identifiantAglae', 'anomalie']


# status is the HTTP status of the last answer, which zeep's Fault does not
# tell.
status = [0]


def record(response, *args, **kwargs):
    status[0] = response.status_code


def client(url, user, password):
    session = requests.Session()
    session.auth = (user, password)
    session.hooks['response'].append(record)
    c = zeep.Client(url + '?wsdl', transport=Transport(session=session))
    return c.create_service('{urn:aglae-connector:connecteur:1}ConnecteurBinding', url)


def answer(r):
    out = {}
    for f in FIELDS:
        v = r[f]
        if v is not None:
            out[f] = int(v) if f == 'anneeUniversitaire' else str(v)
    if r['erreur'] is not None:
        out['erreur'] = {'code': r['erreur']['code'], 'message': r['erreur']['message']}
    return out


def fault(e):
    detail = e.detail
    code = message = None
    if detail is not None:
        for el in detail.iter('{urn:aglae-connector:connecteur:1}code'):
            code = el.text
        for el in detail.iter('{urn:aglae-connector:connecteur:1}message'):
            message = el.text
    return {'status': status[0], 'faultstring': e.message, 'faultcode': e.code, 'code': code, 'message': message}


def opt(s):
    return s if s else None


def main():
    url, user, password, calls = sys.argv[1:5]
    service = client(url, user, password)
    wrong = client(url, user, password + 'x')
    with open(calls, encoding='utf-8') as f:
        lines = [line.rstrip('\n') for line in f if line.strip()]
    for line in lines:
        f = line.split('\t')
        out = {'name': f[1]}
        try:
            if f[0] == 'consulter':
                date = datetime.date.fromisoformat(f[7]) if f[7] else None
                r = service.consulterBoursier(identifiant=opt(f[2]), anneeUniversitaire=int(f[3]) if f[3] else None,
                                              codeEtablissement=opt(f[4]), nom=opt(f[5]), prenom=opt(f[6]),
                                              dateNaissance=date)
                out['result'] = answer(r)
            elif f[0] == 'lot':
                rs = service.consulterBoursiers(anneeUniversitaire=int(f[2]) if f[2] else None,
                                                codeEtablissement=opt(f[3]), identifiant=f[4].split(','))
                out['lot'] = {'reponses': [answer(r) for r in rs]}
            elif f[0] == 'unauthorized':
                wrong.consulterBoursier(identifiant=f[2])
                out['result'] = {}
            else:
                raise ValueError('unknown call ' + f[0])
        except zeep.exceptions.Fault as e:
            out['fault'] = fault(e)
        except Exception as e:  # noqa: BLE001 - reported to the Go test
            out['error'] = '%s: %s' % (type(e).__name__, e)
        print(json.dumps(out), flush=True)


if __name__ == '__main__':
    main()
