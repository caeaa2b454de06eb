// Package autoreply holds a channel's automatic replies (welcome, away,
// close), their default texts in English and Traditional Chinese, the
// display-name formats, and their rendering.
//
// It imports nothing else of PageDesk, so that package store can keep its
// Settings in the channel record.
package autoreply
