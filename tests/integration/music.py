"""A whole MariaDB database to migrate by pattern: a music store of 13 tables with PascalCase names, composite and
missing primary keys, foreign keys (one of them self-referencing, two of them a cycle) and a scratch table to leave
out."""

from __future__ import annotations

from typing import Any

DDL = [
    "CREATE TABLE Artist (ArtistId INT PRIMARY KEY, Name VARCHAR(120))",
    "CREATE TABLE Album (AlbumId INT PRIMARY KEY, Title VARCHAR(160) NOT NULL, ArtistId INT NOT NULL, FOREIGN "
    "KEY (ArtistId) REFERENCES Artist (ArtistId))",
    "CREATE TABLE MediaType (MediaTypeId INT PRIMARY KEY, Name VARCHAR(120))",
    "CREATE TABLE Genre (GenreId INT PRIMARY KEY, Name VARCHAR(120))",
    """CREATE TABLE Track (TrackId INT PRIMARY KEY, Name VARCHAR(200) NOT NULL, AlbumId INT,
        MediaTypeId INT NOT NULL, GenreId INT, Milliseconds INT NOT NULL, UnitPrice DECIMAL(10,2) NOT NULL,
        FOREIGN KEY (AlbumId) REFERENCES Album (AlbumId), FOREIGN KEY (MediaTypeId) REFERENCES MediaType (MediaTypeId),
        FOREIGN KEY (GenreId) REFERENCES Genre (GenreId))""",
    "CREATE TABLE Playlist (PlaylistId INT PRIMARY KEY, Name VARCHAR(120))",
    """CREATE TABLE PlaylistTrack (PlaylistId INT, TrackId INT, PRIMARY KEY (PlaylistId, TrackId),
        FOREIGN KEY (PlaylistId) REFERENCES Playlist (PlaylistId), FOREIGN KEY (TrackId) REFERENCES Track (TrackId))""",
    "CREATE TABLE Department (DepartmentId INT PRIMARY KEY, Name VARCHAR(60), ManagerId INT)",
    """CREATE TABLE Employee (EmployeeId INT PRIMARY KEY, LastName VARCHAR(20) NOT NULL, FirstName VARCHAR(20) NOT NULL,
        ReportsTo INT, DepartmentId INT, HireDate DATETIME, FOREIGN KEY (ReportsTo) REFERENCES Employee (EmployeeId),
        FOREIGN KEY (DepartmentId) REFERENCES Department (DepartmentId))""",
    "ALTER TABLE Department ADD FOREIGN KEY (ManagerId) REFERENCES Employee (EmployeeId)",
    """CREATE TABLE Customer (CustomerId INT PRIMARY KEY, FirstName VARCHAR(40) NOT NULL, LastName VARCHAR(20) NOT NULL,
        Email VARCHAR(60) NOT NULL, Fax VARCHAR(24), SupportRepId INT,
        FOREIGN KEY (SupportRepId) REFERENCES Employee (EmployeeId))""",
    """CREATE TABLE Invoice (InvoiceId INT PRIMARY KEY, CustomerId INT NOT NULL, InvoiceDate DATETIME NOT NULL,
        Total DECIMAL(10,2) NOT NULL, FOREIGN KEY (CustomerId) REFERENCES Customer (CustomerId))""",
    """CREATE TABLE InvoiceLine (InvoiceLineId INT PRIMARY KEY, InvoiceId INT NOT NULL, TrackId INT NOT NULL,
        UnitPrice DECIMAL(10,2) NOT NULL, Quantity INT NOT NULL, FOREIGN KEY (InvoiceId) REFERENCES Invoice (InvoiceId),
        FOREIGN KEY (TrackId) REFERENCES Track (TrackId))""",
    "CREATE TABLE HTTPStatusLog (`Status Code` INT, `Seen-At` DATETIME, Note TEXT)",
    "CREATE TABLE tmp_Scratch (Id INT PRIMARY KEY, Junk TEXT)",
]
ROWS: dict[str, list[tuple[Any, ...]]] = {
    "Artist": [(1, "AC/DC"), (2, "Accept"), (3, "Aerosmith")],
    "Album": [(1, "For Those About To Rock", 1), (2, "Balls to the Wall", 2), (3, "Big Ones", 3)],
    "MediaType": [(1, "MPEG audio file"), (2, "AAC audio file")],
    "Genre": [(1, "Rock"), (2, "Metal")],
    "Track": [
        (1, "For Those About To Rock", 1, 1, 1, 343719, "0.99"),
        (2, "Balls to the Wall", 2, 2, 2, 342562, "0.99"),
        (3, "Walk On Water", 3, 1, 1, 295680, "1.29"),
        (4, "Untitled demo", None, 1, None, 1000, "0.00"),
    ],
    "Playlist": [(1, "Music"), (2, "Heavy")],
    "PlaylistTrack": [(1, 1), (1, 3), (2, 2)],
    "Department": [(1, "Sales", None), (2, "IT", None)],
    "Employee": [
        (1, "Adams", "Andrew", None, 1, "2002-08-14 00:00:00"),
        (2, "Edwards", "Nancy", 1, 1, "2002-05-01 00:00:00"),
        (3, "Park", "Peacock", 2, 2, None),
    ],
    "Customer": [
        (1, "Luís", "Gonçalves", "luisg@embraer.com.br", None, 2),
        (2, "Leonie", "Köhler", "leonekohler@surfeu.de", "+49 0711", 3),
    ],
    "Invoice": [(1, 2, "2021-01-01 00:00:00", "1.98"), (2, 1, "2021-01-02 00:00:00", "3.96")],
    "InvoiceLine": [(1, 1, 2, "0.99", 2), (2, 2, 1, "0.99", 1), (3, 2, 3, "1.29", 2)],
    "HTTPStatusLog": [(200, "2021-01-01 10:00:00", "ok"), (404, None, None)],
    "tmp_Scratch": [(1, "x")],
}
MANAGERS = "UPDATE Department SET ManagerId = 1 WHERE DepartmentId = 1"
TABLES = [t for t in ROWS if not t.startswith("tmp_")]
"""The 13 tables a pattern excluding tmp_* takes."""


def create_music(db: Any) -> None:
    """The schema and its rows, through a tests.integration.shop.SourceDB of MariaDB."""
    for statement in DDL:
        db.execute(statement)
    for table in ROWS:  # in dependency order
        db.insert(table, ROWS[table])
    db.execute(MANAGERS)


def project_yaml(database: str, source_conn: str, target_conn: str, naming: str = "snake_case") -> str:
    """The whole database in a project of nine lines."""
    return f"""\
name: music
naming: {naming}
pipelines:
  - name: store
    source_conn_id: {source_conn}
    target_conn_id: {target_conn}
    include: ["{database}.*"]
    exclude: ["{database}.tmp_*"]
    target_schema: music
"""
