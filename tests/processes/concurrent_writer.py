"""A separate writer process for the concurrency test: classify and correct through the API."""

import json
import sys

from qcapp import create_app


def main(database_url: str, models_dir: str, queries: int, every: int) -> None:
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "concurrency",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "MODELS_DIR": models_dir,
            "LOG_LEVEL": "ERROR",
            "MODEL_CHECK_INTERVAL": 60,
        }
    )
    client = app.test_client()
    failures = []
    for number in range(queries):
        response = client.post("/api/v1/classify", json={"question": f"Who wrote book {number}?"})
        if response.status_code != 200:
            failures.append(response.get_data(as_text=True))
            continue
        if number % every == 0:
            query_id = response.get_json()["id"]
            correction = client.post(
                f"/api/v1/queries/{query_id}/corrections", json={"coarse": "HUM", "fine": "HUM:ind"}
            )
            if correction.status_code != 201:
                failures.append(correction.get_data(as_text=True))
    print(json.dumps({"failures": failures}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
