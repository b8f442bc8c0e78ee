"""A real SMTP server (aiosmtpd) that keeps every message it is given, for the tests.

    python3 tools/mail/sink.py PORT FOLDER

Listens on 127.0.0.1:PORT; each message is written as FOLDER/NNNN.json (its envelope: sender,
recipients, and the message itself, decoded: subject, text, and each attachment's file name,
type and SHA-256). Prints `listening` once ready.
"""
import email
import email.policy
import hashlib
import json
import os
import sys
import time

from aiosmtpd.controller import Controller

port, folder = int(sys.argv[1]), sys.argv[2]
os.makedirs(folder, exist_ok=True)


class Keep:
    count = 0

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.original_content or envelope.content, policy=email.policy.default)
        body = message.get_body(preferencelist=('plain',))
        Keep.count += 1
        record = {
            'from': envelope.mail_from,
            'to': envelope.rcpt_tos,
            'subject': str(message['subject']),
            'text': body.get_content() if body else '',
            'attachments': [
                {
                    'filename': part.get_filename(),
                    'type': part.get_content_type(),
                    'sha256': hashlib.sha256(part.get_content()).hexdigest(),
                }
                for part in message.iter_attachments()
            ],
        }
        path = os.path.join(folder, f'{Keep.count:04d}.json')
        with open(path + '.part', 'w', encoding='utf-8') as f:
            json.dump(record, f, ensure_ascii=False)
        os.replace(path + '.part', path)
        return '250 Message accepted for delivery'


controller = Controller(Keep(), hostname='127.0.0.1', port=port)
controller.start()
print('listening', flush=True)
try:
    while True:
        time.sleep(3600)
finally:
    controller.stop()
