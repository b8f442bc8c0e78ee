"""Domania's Open311 GeoReport v2 API through real clients, in JSON and in XML.

    python3 tools/georeport/check.py BASE_URL API_KEY EDITOR_TOKEN

Run by tests/reports.rs against `domania serve` on the demo territory:
- the `georeport` package (PyPI) makes its four calls (services, a service's definition,
  the requests, one request) in both formats;
- a request is posted as FixMyStreet's Open311 client (perllib/Open311.pm) posts it — to
  requests.xml, with its fields (email, first_name, last_name, jurisdiction_id, an attribute) —
  and its answer read as FixMyStreet reads it (request/service_request_id, or a token followed
  through tokens/{token}.xml), its errors as it reads them (error/code, error/description);
- the request moved by a service (the editor's token), its steps read as FixMyStreet's
  Open311::GetServiceRequestUpdates reads them: servicerequestupdates.xml between two W3C dates,
  each request_update with its update_id, service_request_id, status and description.
Prints a JSON summary; exits non-zero with the reason at the first check that fails.
"""
import json
import sys
import xml.etree.ElementTree as ET

import requests
from georeport import GeoReport

base, key, editor = sys.argv[1].rstrip('/') + '/open311/v2', sys.argv[2], sys.argv[3]
summary = {}


def check(cond, msg):
    if not cond:
        print(f'georeport check: {msg}', file=sys.stderr)
        print(json.dumps(summary), file=sys.stderr)
        sys.exit(1)


def as_list(x):
    return x if isinstance(x, list) else [x]


# FixMyStreet's post, to requests.xml, with the fields it sends.
fms = {
    'jurisdiction_id': 'gpso', 'api_key': key, 'service_code': 'dumping', 'lat': '48.927', 'long': '1.806',
    'email': 'habitant@example.org', 'first_name': 'Camille', 'last_name': 'Martin',
    'description': 'title:  Encombrants\n\ndetail: Matelas devant le hall B & le local vélos\n\nurl: https://fms.example/report/1\n\nSubmitted via FixMyStreet',
    'media_url': 'https://fms.example/photo/1.jpeg', 'attribute[blocked_access]': 'true',
}
r = requests.post(f'{base}/requests.xml', data=fms, headers={'Accept-Language': 'en'})
check(r.status_code == 201 and r.headers['content-type'].startswith('text/xml'), f'POST requests.xml: {r.status_code} {r.text}')
doc = ET.fromstring(r.content)
check(doc.tag == 'service_requests', f'the answer\'s root is {doc.tag}')
posted = doc.findtext('request/service_request_id') or ''
token = doc.findtext('request/token')
check(posted.isdigit() or token, f'no service_request_id nor token: {r.text}')
summary['posted'] = posted

# What FixMyStreet does with a token: tokens/{token}.xml gives the id.
t = requests.get(f'{base}/tokens/{posted}.xml')
check(t.status_code == 200 and ET.fromstring(t.content).findtext('request/service_request_id') == posted, f'tokens: {t.text}')

# Its errors, as FixMyStreet's _process_error reads them: error/code and error/description.
for fields, expected in [
    ({**fms, 'attribute[nope]': 'true'}, 400),
    ({**fms, 'attribute[blocked_access]': 'maybe'}, 400),
    ({k: v for k, v in fms.items() if k not in ('lat', 'long')} | {'address_string': '12 rue de la Paix, Les Mureaux'}, 400),
    ({**fms, 'api_key': 'nope'}, 401),
]:
    e = requests.post(f'{base}/requests.xml', data=fields, headers={'Accept-Language': 'en'})
    check(e.status_code == expected and e.headers['content-type'].startswith('text/xml'), f'{e.status_code} {e.text}')
    err = ET.fromstring(e.content)
    check(err.tag == 'errors' and err.findtext('error/code') == str(expected) and err.findtext('error/description'), e.text)
    summary.setdefault('errors', []).append(err.findtext('error/description'))
e = requests.get(f'{base}/requests/999999999.xml')
check(e.status_code == 404 and ET.fromstring(e.content).findtext('error/code') == '404', f'an unknown request: {e.text}')

# The georeport client's four calls, in each format.
for fmt in ['json', 'xml']:
    c = GeoReport(base, jurisdiction='gpso', output_format=fmt)
    services = as_list(c.get_service_list())
    codes = [s['service_code'] for s in services]
    check('dumping' in codes, f'{fmt}: services {codes}')
    d = c.get_service_definition('dumping')
    attrs = d['attributes'] if fmt == 'json' else as_list(d['attributes']['attribute'])
    check(any(a['code'] == 'blocked_access' for a in attrs), f'{fmt}: the definition {d}')
    values = attrs[0]['values'] if fmt == 'json' else as_list(attrs[0]['values']['value'])
    check({v['key'] for v in values} == {'true', 'false'}, f'{fmt}: values {values}')
    listed = as_list(c.get_service_requests(status='open,closed', service_code='dumping'))
    check(any(x['service_request_id'] == posted for x in listed), f'{fmt}: the list misses {posted}')
    one = c.get_service_request(posted)
    check(one['service_request_id'] == posted and one['status'] == 'open', f'{fmt}: {one}')
    check('Matelas devant le hall B & le local vélos' in one['description'], f'{fmt}: the description {one["description"]!r}')
    check(one['media_url'] == 'https://fms.example/photo/1.jpeg', f'{fmt}: media_url {one["media_url"]}')
    summary[fmt] = {'services': len(services), 'attributes': len(attrs), 'listed': len(listed), 'agency': one['agency_responsible']}

# A service plans it; FixMyStreet asks for the last hours' updates, as it does every few
# minutes (W3C dates with their offset), and reads each request_update.
from datetime import datetime, timedelta, timezone
moved = requests.post(f'{base.removesuffix("/open311/v2")}/v1/reports/{posted}/status',
                      json={'status': 'planned', 'note': 'Enlèvement prévu jeudi'}, headers={'Authorization': f'Bearer {editor}'})
check(moved.status_code == 200, f'moving the request: {moved.status_code} {moved.text}')
now = datetime.now(timezone(timedelta(hours=1))).replace(microsecond=0)
window = {'jurisdiction_id': 'gpso', 'api_key': key,
          'start_date': (now - timedelta(hours=2)).isoformat(), 'end_date': (now + timedelta(minutes=1)).isoformat()}
u = requests.get(f'{base}/servicerequestupdates.xml', params=window)
check(u.status_code == 200 and u.headers['content-type'].startswith('text/xml'), f'servicerequestupdates: {u.status_code} {u.text}')
doc = ET.fromstring(u.content)
check(doc.tag == 'service_requests_updates', f'the updates\' root is {doc.tag}')
mine = [x for x in doc.findall('request_update') if x.findtext('service_request_id') == posted]
check(len(mine) == 1, f'one update of {posted} (its making is not one): {u.text}')
upd = {c.tag: c.text for c in mine[0]}
check(upd['status'].lower() == 'action_scheduled' and upd['description'] == 'Enlèvement prévu jeudi', f'the update: {upd}')
check(upd['update_id'] and datetime.fromisoformat(upd['updated_datetime'].replace('Z', '+00:00')), f'the update: {upd}')
summary['update'] = upd

d = requests.get(f'{base}/discovery.xml')
check(d.status_code == 200 and 'text/xml' in [f.text for f in ET.fromstring(d.content).iter('format')], f'discovery: {d.text}')
print(json.dumps(summary, ensure_ascii=False))
