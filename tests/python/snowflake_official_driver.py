"""Runs statements through Snowflake's official Python connector and prints what it read back.

Used by tests/it/official_driver.rs to check that the emulator answers as Snowflake does for a
driver other than the one kickstart uses. Input (stdin, JSON):
  {"host", "port", "account", "user", "key_file", "role", "statements": [...]}
Output (stdout, JSON), one of:
  {"login_error": {"errno", "sqlstate", "message"}}
  {"session": {"role", "user"}, "results": [{"statement", "columns": [[name, type]], "rows"}
                                             | {"statement", "error": {...}}]}
Cells are printed as the driver converted them: booleans stay booleans, timestamps become ISO
text, so the test sees the types the driver chose from the answer's row types.
"""

import datetime
import json
import sys

import snowflake.connector
from cryptography.hazmat.primitives import serialization
from snowflake.connector.constants import FIELD_ID_TO_NAME


def cell(value):
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    return value


def failure(e):
    return {"errno": e.errno, "sqlstate": e.sqlstate, "message": e.raw_msg or e.msg}


def main():
    job = json.load(sys.stdin)
    with open(job["key_file"], "rb") as f:
        key = serialization.load_pem_private_key(f.read(), password=None)
    try:
        connection = snowflake.connector.connect(
            account=job["account"],
            user=job["user"],
            private_key=key,
            authenticator="SNOWFLAKE_JWT",
            protocol="http",
            host=job["host"],
            port=job["port"],
            role=job["role"],
            # The emulator is plain http on loopback: nothing to check certificates of.
            enable_server_session_keep_alive_auto_detection=False,
        )
    except snowflake.connector.errors.Error as e:
        print(json.dumps({"login_error": failure(e)}))
        return
    results = []
    with connection:
        cursor = connection.cursor()
        cursor.execute("SELECT CURRENT_ROLE()")
        role = cursor.fetchone()[0]
        cursor.execute("SELECT CURRENT_USER()")
        user = cursor.fetchone()[0]
        for statement in job["statements"]:
            try:
                cursor.execute(statement)
            except snowflake.connector.errors.Error as e:
                results.append({"statement": statement, "error": failure(e)})
                continue
            columns = [[d.name, FIELD_ID_TO_NAME[d.type_code]] for d in cursor.description]
            rows = [[cell(v) for v in row] for row in cursor.fetchall()]
            results.append({"statement": statement, "columns": columns, "rows": rows})
    print(json.dumps({"session": {"role": role, "user": user}, "results": results}))


if __name__ == "__main__":
    main()
