"""A commune's software receiving Domania's webhooks, for the tests.

    python3 tools/webhook/receiver.py PORT SECRET FOLDER FAIL_FIRST

Listens on 127.0.0.1:PORT. Each POST's signature (X-Domania-Signature: t=…,v1=… the hex
HMAC-SHA256 of "{t}.{body}" under SECRET) is checked, and its time (within 5 minutes); a bad
or missing one is refused with 401. The first FAIL_FIRST well-signed posts are answered 503 (a
receiver that is down), the next ones 200. Every post is written as FOLDER/NNNN.json: its path,
whether it was accepted, its delivery id and the event. Prints `listening` once ready.
"""
import hashlib
import hmac
import json
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

port, secret, folder, fail_first = int(sys.argv[1]), sys.argv[2].encode(), sys.argv[3], int(sys.argv[4])
os.makedirs(folder, exist_ok=True)
state = {'count': 0, 'signed': 0}


def verified(header, body):
    try:
        parts = dict(p.split('=', 1) for p in header.split(','))
        t = int(parts['t'])
    except (KeyError, ValueError):
        return False
    expected = hmac.new(secret, f'{t}.'.encode() + body, hashlib.sha256).hexdigest()
    return abs(time.time() - t) < 300 and hmac.compare_digest(expected, parts.get('v1', ''))


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get('Content-Length', 0)))
        ok = verified(self.headers.get('X-Domania-Signature', ''), body)
        if ok:
            state['signed'] += 1
        code = 401 if not ok else (503 if state['signed'] <= fail_first else 200)
        state['count'] += 1
        record = {
            'path': self.path, 'code': code, 'signed': ok,
            'delivery': self.headers.get('X-Domania-Delivery'),
            'event': json.loads(body) if ok else None,
        }
        path = os.path.join(folder, f"{state['count']:04d}.json")
        with open(path + '.part', 'w', encoding='utf-8') as f:
            json.dump(record, f, ensure_ascii=False)
        os.replace(path + '.part', path)
        self.send_response(code)
        self.end_headers()

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(('127.0.0.1', port), Receiver)
print('listening', flush=True)
server.serve_forever()
