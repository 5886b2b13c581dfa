"""The image's health check: healthy once ``b24local serve`` answers on port 8024.

It asks ``/_b24local/health`` (503 while the store fails); a 404 is an older
server without that path, for which an answer at all is what there is to know.
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
