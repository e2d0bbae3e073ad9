package main

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"path/filepath"
	"time"

	_ "modernc.org/sqlite" // the database/sql driver "sqlite", pure Go
)

// A store is the shop's SQLite database: products with their pictures,
// orders, the emails sent for them and the thumbnails made of the pictures.
type store struct {
	db *sql.DB
}

// Product is a row of the products table.
type Product struct {
	ID           int64  `json:"id"`
	Name         string `json:"name"`
	PriceCents   int64  `json:"price_cents"`
	Stock        int64  `json:"stock"`
	HasThumbnail bool   `json:"has_thumbnail"`
}

// errNotFound is returned for a product that does not exist.
var errNotFound = errors.New("not found")

// errOutOfStock is returned for an order of more than the stock holds.
var errOutOfStock = errors.New("out of stock")

const schema = `
CREATE TABLE IF NOT EXISTS products (
	id          INTEGER PRIMARY KEY,
	name        TEXT NOT NULL,
	price_cents INTEGER NOT NULL,
	stock       INTEGER NOT NULL,
	picture     BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS orders (
	id         INTEGER PRIMARY KEY,
	product_id INTEGER NOT NULL REFERENCES products(id),
	qty        INTEGER NOT NULL,
	email      TEXT NOT NULL,
	created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS emails (
	order_id INTEGER PRIMARY KEY REFERENCES orders(id),
	rcpt     TEXT NOT NULL,
	subject  TEXT NOT NULL,
	sent_at  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS thumbnails (
	product_id INTEGER PRIMARY KEY REFERENCES products(id),
	width      INTEGER NOT NULL,
	height     INTEGER NOT NULL,
	png        BLOB NOT NULL
);`

// openStore opens (creating if needed) the database file shop.db in dir and
// adds the demo products if the products table is empty.
func openStore(ctx context.Context, dir string) (*store, error) {
	// WAL lets readers run beside the one writer; busy_timeout makes a
	// writer wait for the lock instead of failing at once.
	dsn := "file:" + filepath.Join(dir, "shop.db") + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(5000)&_pragma=foreign_keys(1)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	s := &store{db: db}
	if _, err := db.ExecContext(ctx, schema); err != nil {
		db.Close()
		return nil, fmt.Errorf("creating the schema: %w", err)
	}
	if err := s.seed(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("adding the demo products: %w", err)
	}
	return s, nil
}

func (s *store) Close() error { return s.db.Close() }

// demoProducts are the products a new database starts with.
var demoProducts = []Product{
	{ID: 1, Name: "Espresso cup", PriceCents: 900, Stock: 100},
	{ID: 2, Name: "Moka pot", PriceCents: 3500, Stock: 40},
	{ID: 3, Name: "Hand grinder", PriceCents: 6200, Stock: 15},
	{ID: 4, Name: "Kettle", PriceCents: 4800, Stock: 25},
}

func (s *store) seed(ctx context.Context) error {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM products`).Scan(&n); err != nil || n > 0 {
		return err
	}
	for _, p := range demoProducts {
		pic, err := picture(p.ID)
		if err != nil {
			return err
		}
		if _, err := s.db.ExecContext(ctx, `INSERT INTO products (id, name, price_cents, stock, picture) VALUES (?, ?, ?, ?, ?)`,
			p.ID, p.Name, p.PriceCents, p.Stock, pic); err != nil {
			return err
		}
	}
	return nil
}

// picture draws a product's 256×256 picture (a gradient tinted by its id),
// PNG-encoded: something real for the thumbnail job to shrink.
func picture(id int64) ([]byte, error) {
	img := image.NewRGBA(image.Rect(0, 0, 256, 256))
	for y := range 256 {
		for x := range 256 {
			img.Set(x, y, color.RGBA{R: uint8(x), G: uint8(y), B: uint8(id * 60), A: 255})
		}
	}
	var b bytes.Buffer
	err := png.Encode(&b, img)
	return b.Bytes(), err
}

// product reads one product.
func (s *store) product(ctx context.Context, id int64) (Product, error) {
	var p Product
	err := s.db.QueryRowContext(ctx, `SELECT p.id, p.name, p.price_cents, p.stock, t.product_id IS NOT NULL
		FROM products p LEFT JOIN thumbnails t ON t.product_id = p.id WHERE p.id = ?`, id).
		Scan(&p.ID, &p.Name, &p.PriceCents, &p.Stock, &p.HasThumbnail)
	if errors.Is(err, sql.ErrNoRows) {
		return p, fmt.Errorf("product %d: %w", id, errNotFound)
	}
	return p, err
}

// placeOrder takes qty of a product from its stock and records the order,
// in one transaction.
func (s *store) placeOrder(ctx context.Context, productID, qty int64, email string) (int64, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `UPDATE products SET stock = stock - ? WHERE id = ? AND stock >= ?`, qty, productID, qty)
	if err != nil {
		return 0, err
	}
	if n, err := res.RowsAffected(); err != nil {
		return 0, err
	} else if n == 0 {
		if _, err := s.product(ctx, productID); err != nil {
			return 0, err
		}
		return 0, fmt.Errorf("product %d: %w", productID, errOutOfStock)
	}
	res, err = tx.ExecContext(ctx, `INSERT INTO orders (product_id, qty, email, created_at) VALUES (?, ?, ?, ?)`,
		productID, qty, email, time.Now().UTC().Format(time.RFC3339Nano))
	if err != nil {
		return 0, err
	}
	id, err := res.LastInsertId()
	if err != nil {
		return 0, err
	}
	return id, tx.Commit()
}

// recordEmail records that the confirmation of an order was sent. A second
// record for the same order changes nothing, so a job that runs twice sends
// one email.
func (s *store) recordEmail(ctx context.Context, orderID int64, rcpt, subject string) (sent bool, err error) {
	res, err := s.db.ExecContext(ctx, `INSERT OR IGNORE INTO emails (order_id, rcpt, subject, sent_at) VALUES (?, ?, ?, ?)`,
		orderID, rcpt, subject, time.Now().UTC().Format(time.RFC3339Nano))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// pictureOf returns a product's picture.
func (s *store) pictureOf(ctx context.Context, id int64) ([]byte, error) {
	var b []byte
	err := s.db.QueryRowContext(ctx, `SELECT picture FROM products WHERE id = ?`, id).Scan(&b)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("product %d: %w", id, errNotFound)
	}
	return b, err
}

// saveThumbnail stores (or replaces) a product's thumbnail.
func (s *store) saveThumbnail(ctx context.Context, id int64, w, h int, png []byte) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO thumbnails (product_id, width, height, png) VALUES (?, ?, ?, ?)
		ON CONFLICT (product_id) DO UPDATE SET width = excluded.width, height = excluded.height, png = excluded.png`, id, w, h, png)
	return err
}
