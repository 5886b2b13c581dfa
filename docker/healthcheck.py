"""The image's health check: healthy once ``b24local serve`` answers on port 8024.

Under ``--dev`` it asks ``/_b24local/health`` (503 while the store fails); without
``--dev`` that path is unknown (404), and an answer at all is what there is to know.
"""

import sys
import urllib.error
import urllib.request

URL = "http://127.0.0.1:8024/_b24local/health"

try:
    with urllib.request.urlopen(URL, timeout=3):
        pass
except urllib.error.HTTPError as error:
    sys.exit(0 if error.code == 404 else 1)
except OSError:
    sys.exit(1)
